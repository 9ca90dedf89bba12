-- The Kampung KB expected to report each month: one row per Kampung KB and month whose version valid at the end of
-- the month is active and launched by then, with the desa of that version. The denominator of reporting
-- completeness (int_indikator__desa_bulanan) and the "expected" list of `kkb explain`.

with

versi as (

    select * from {{ ref('dim_kampung_kb') }}

),

periode as (

    select * from {{ ref('dim_periode') }}

),

final as (

    select distinct
        versi.kampung_kb_id,
        versi.kode_desa,
        periode.periode_key
    from versi
    inner join periode
        on
            versi.valid_from <= periode.tanggal_akhir
            and (versi.valid_to is null or versi.valid_to >= periode.tanggal_akhir)
    where
        coalesce(versi.is_active, true)
        and coalesce(versi.tanggal_pencanangan <= periode.tanggal_akhir, true)

)

select * from final
