# Integration tests: every tests/integration/test_*.sh is one ctest test.
# They share one throwaway PostgreSQL cluster (ctest fixture "pg"), started
# into the build tree by scripts/pg-harness.sh and stopped at the end; each
# script starts its own fixture HTTP servers on 127.0.0.1 with free ports.
set(CL_PG_DIR ${CMAKE_BINARY_DIR}/test-pg)

add_test(NAME integration.pg_start
	COMMAND ${CMAKE_SOURCE_DIR}/scripts/pg-harness.sh start ${CL_PG_DIR})
set_tests_properties(integration.pg_start PROPERTIES FIXTURES_SETUP pg LABELS integration)
add_test(NAME integration.pg_stop
	COMMAND ${CMAKE_SOURCE_DIR}/scripts/pg-harness.sh stop ${CL_PG_DIR})
set_tests_properties(integration.pg_stop PROPERTIES FIXTURES_CLEANUP pg LABELS integration)

file(GLOB CL_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/test_*.sh)
foreach(script ${CL_INTEGRATION_TESTS})
	get_filename_component(name ${script} NAME_WE)
	add_test(NAME integration.${name} COMMAND bash ${script})
	set_tests_properties(integration.${name} PROPERTIES
		LABELS integration
		FIXTURES_REQUIRED pg
		TIMEOUT 600
		RESOURCE_LOCK closedloop_db
		ENVIRONMENT "${CL_TEST_ENV};CL_PG_DIR=${CL_PG_DIR};CL_FIXTURE_SERVER=$<TARGET_FILE:cl-fixture-server>;CL_DATAGEN=$<TARGET_FILE:cl-datagen>")
endforeach()
