-- One row per Kampung KB version (SCD type 2: valid_from inclusive, valid_to exclusive, NULL while current).
-- In this slice the versions come from the monthly reports (a change of kode_desa starts a new version); the profile
-- history (pokja, rumah dataku, class ...) will add attributes and versions without changing the grain or the keys'
-- meaning.

with

versions as (

    select * from {{ ref('int_kampung_kb__versions') }}

),

final as (

    select
        {{ surrogate_key(['kampung_kb_id', 'valid_from']) }} as kampung_kb_key,
        kampung_kb_id,
        kode_desa,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        valid_from,
        valid_to,
        is_current
    from versions

)

select * from final
