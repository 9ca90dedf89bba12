{{ config(meta={'dagster': {'ref': {'name': 'rpt_kabupaten_bulanan'}}}) }}

-- Every report in fct_kkbpk_bulanan is counted exactly once in rpt_kabupaten_bulanan: per month, the number of
-- reports and the summed counts agree. Returns the months where they do not.

with

fakta as (

    select
        periode_key,
        count(*) as jumlah_laporan,
        sum(jml_pus) as jml_pus,
        sum(pa_total) as pa_total,
        sum(non_kb_unmet) as non_kb_unmet
    from {{ ref('fct_kkbpk_bulanan') }}
    group by periode_key

),

laporan as (

    select
        periode_key,
        sum(jumlah_laporan) as jumlah_laporan,
        sum(jml_pus) as jml_pus,
        sum(pa_total) as pa_total,
        sum(non_kb_unmet) as non_kb_unmet
    from {{ ref('rpt_kabupaten_bulanan') }}
    group by periode_key

)

select
    fakta.jumlah_laporan as fct_jumlah_laporan,
    laporan.jumlah_laporan as rpt_jumlah_laporan,
    coalesce(fakta.periode_key, laporan.periode_key) as periode_key
from fakta
full outer join laporan
    on fakta.periode_key = laporan.periode_key
where
    fakta.periode_key is null
    or laporan.periode_key is null
    or fakta.jumlah_laporan != laporan.jumlah_laporan
    or fakta.jml_pus != laporan.jml_pus
    or fakta.pa_total != laporan.pa_total
    or fakta.non_kb_unmet != laporan.non_kb_unmet
