pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.postgres",
    "tests.fixtures.dbt_project",
]
