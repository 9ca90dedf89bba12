-- One row per kabupaten/kota and month with at least one Kampung KB report: the KKBPK indicators for BI.
-- Each indicator is the ratio of the summed numerator to the summed denominator over the reports received (never a
-- mean of the Kampung KB ratios), as a percentage 0-100, not rounded, NULL when the denominator is 0.
-- The inner join to dim_wilayah drops nothing: a fact whose wilayah_key is not in dim_wilayah fails the
-- relationships test on fct_kkbpk_bulanan, and `dbt build` then skips this model.

with

laporan as (

    select * from {{ ref('fct_kkbpk_bulanan') }}

),

wilayah as (

    select * from {{ ref('dim_wilayah') }}

),

aggregated as (

    select
        wilayah.kode_kab,
        wilayah.nama_kab,
        laporan.tahun,
        laporan.bulan,
        laporan.periode_key,
        count(*) as jumlah_laporan,
        sum(laporan.jml_pus) as jml_pus,
        sum(laporan.pa_total) as pa_total,
        sum(laporan.pa_mkjp) as pa_mkjp,
        sum(laporan.non_kb_unmet) as non_kb_unmet
    from laporan
    inner join wilayah
        on laporan.wilayah_key = wilayah.wilayah_key
    group by
        wilayah.kode_kab,
        wilayah.nama_kab,
        laporan.tahun,
        laporan.bulan,
        laporan.periode_key

),

final as (

    select
        kode_kab,
        nama_kab,
        tahun,
        bulan,
        periode_key,
        cast(jumlah_laporan as bigint) as jumlah_laporan,
        cast(jml_pus as bigint) as jml_pus,
        cast(pa_total as bigint) as pa_total,
        cast(pa_mkjp as bigint) as pa_mkjp,
        cast(non_kb_unmet as bigint) as non_kb_unmet,
        {{ persentase('pa_total', 'jml_pus') }} as cpr,
        {{ persentase('pa_mkjp', 'pa_total') }} as mkjp,
        {{ persentase('non_kb_unmet', 'jml_pus') }} as unmet_need
    from aggregated

)

select * from final
