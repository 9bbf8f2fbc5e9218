# Compares what dtp-describe prints with the reviewed golden file. To accept
# a deliberate change: run dtp-describe > tests/golden/profiles.txt and
# review the diff in the commit.
execute_process(COMMAND ${DESCRIBE} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dtp-describe failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${GOLDEN} ${OUT} RESULT_VARIABLE diff)
if(NOT diff EQUAL 0)
  execute_process(COMMAND diff -u ${GOLDEN} ${OUT})
  message(FATAL_ERROR "profile snapshot differs from ${GOLDEN} (see diff above)")
endif()
