"""Storage: SQLAlchemy models, engine and sessions, Alembic migrations, field encryption."""
