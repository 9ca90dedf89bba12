{#-
    The combination of the given columns is unique: the test for a composite grain (dbt_utils has the same test, but
    dbt Hub packages cannot be installed offline). Rows where any of the columns is NULL are checked too.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

    with grouped as (
        select
            {{ combination_of_columns | join(', ') }},
            count(*) as n_rows
        from {{ model }}
        group by {{ combination_of_columns | join(', ') }}
    )

    select *
    from grouped
    where n_rows > 1

{% endtest %}
