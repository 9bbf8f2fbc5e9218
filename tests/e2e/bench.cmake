# The benchmark (bench/run.sh, issue 6) in its QUICK=1 form: proves that the
# script runs and writes its report with every section. Label `bench`; it
# never asserts a speed. Included from tests/CMakeLists.txt.
add_test(NAME bench.quick COMMAND bash ${PROJECT_SOURCE_DIR}/bench/quick_test.sh)
set_tests_properties(bench.quick PROPERTIES
  LABELS bench TIMEOUT 300 SKIP_RETURN_CODE 77
  ENVIRONMENT "QUICK=1;BUILD_DIR=${PROJECT_BINARY_DIR};DTP_BUILD_DIR=${PROJECT_BINARY_DIR};BENCH_OUT=${PROJECT_BINARY_DIR}/performance-quick.md")
