"""Plain functions the Dagster assets call: no Dagster imports here, so everything is unit-testable."""
