"""dbt-braze: keep Braze in step with dbt models, sending only what changed."""

__version__ = "0.1.0"
