"""What PostgreSQL 12+ through ``postgresql+pgwire`` supports, for SQLAlchemy's dialect suite.

``SuiteRequirements`` closes every feature not all backends have; the ones
PostgreSQL has are opened here, so their tests run instead of being skipped.
Features the asyncpg adaptation layer itself lacks (two-phase commit) stay closed, and
so do computed columns: the suite declares them without ``persisted``, which SQLAlchemy
2.1 warns about on PostgreSQL before 18 (the harness turns warnings into errors).
"""

from __future__ import annotations

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

_POSTGRESQL_FEATURES = """
    create_table_as create_temp_table_as table_ddl_if_exists index_ddl_if_exists
    uuid_data_type deferrable_fks boolean_col_expressions nullsordering intersect except_
    window_functions window_range window_range_numeric window_range_non_numeric ctes views
    cross_schema_fk_reflection reflects_pk_names comment_reflection
    constraint_comment_reflection schema_create_delete
    foreign_key_constraint_option_reflection_ondelete
    fk_constraint_option_reflection_ondelete_restrict
    fk_constraint_option_reflection_ondelete_noaction
    foreign_key_constraint_option_reflection_onupdate
    fk_constraint_option_reflection_onupdate_restrict
    temp_table_names has_temp_table temporary_views create_or_replace_view
    index_reflects_included_columns indexes_with_expressions reflect_indexes_with_expressions
    check_constraint_reflection autocommit array_type json_type
    precision_numerics_enotation_small server_defaults infinity_floats savepoints
    update_from delete_from mod_operator_as_percent_sign supports_distinct_on identity_columns
    regexp_match
    regexp_replace fetch_first fetch_ties fetch_no_order_by materialized_views
    supports_bitwise_or supports_bitwise_and supports_bitwise_not supports_bitwise_xor
    supports_bitwise_shift reflect_table_options unique_constraints_reflect_as_index
""".split()


def _open(self: SuiteRequirements) -> exclusions.compound:
    return exclusions.open()


class Requirements(SuiteRequirements):
    pass


for _name in _POSTGRESQL_FEATURES:
    setattr(Requirements, _name, property(_open))
