{#-
    An indicator as a percentage 0-100 (double, not rounded): numerator / denominator * 100, NULL when the
    denominator is 0 or NULL (a unit with nothing to measure has no value, not 0). Above the Kampung KB, pass summed
    numerators and denominators: an indicator is the ratio of sums, never a mean of ratios.
-#}
{%- macro persentase(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0) * 100
{%- endmacro -%}
