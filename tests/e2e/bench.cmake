# The benchmark (bench/run.sh measures, bench/report.sh writes the report).
# bench.quick: run.sh in its QUICK=1 form proves that the script runs and
# writes its report with every section. Label `bench`; it never asserts a
# speed. Included from tests/CMakeLists.txt.
add_test(NAME bench.quick COMMAND bash ${PROJECT_SOURCE_DIR}/bench/quick_test.sh)
set_tests_properties(bench.quick PROPERTIES
  LABELS bench TIMEOUT 300 SKIP_RETURN_CODE 77
  ENVIRONMENT "QUICK=1;BUILD_DIR=${PROJECT_BINARY_DIR};DTP_BUILD_DIR=${PROJECT_BINARY_DIR};BENCH_OUT=${PROJECT_BINARY_DIR}/performance-quick.md")
# bench.report: the report step alone on synthetic raw data with known
# numbers (medians, ratios, verdicts, failure list, missing files); no
# network, no apps.
add_test(NAME bench.report COMMAND bash ${PROJECT_SOURCE_DIR}/tests/e2e/bench_report.sh)
set_tests_properties(bench.report PROPERTIES LABELS unit TIMEOUT 60)
