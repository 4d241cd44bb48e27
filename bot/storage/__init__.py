"""Storage layer: SQLAlchemy models, migrations, data-file loading and repositories behind the domain's ports.

Import the submodules directly (`bot.storage.db`, `bot.storage.listings`, `bot.storage.data_files`); this
package imports nothing itself, so code that needs only one part (say, a Redis store) does not load SQLAlchemy.
"""
