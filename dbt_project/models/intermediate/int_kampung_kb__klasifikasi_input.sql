-- The inputs of the Kampung KB class, one row per Kampung KB and month with a monthly report (fct_kkbpk_bulanan):
-- INPUT and PROSES variables from the Kampung KB version valid that month (dim_kampung_kb), distinct partner
-- agencies year to date (the Kampung KB's activities from January of the same year up to and including the month),
-- OUTPUT percentages from the month's report. fct_kampung_kb_klasifikasi scores them (macros/klasifikasi.sql); the
-- split lets the unit tests give the inputs directly. Reads marts, so that it uses exactly what BI users see.

with

laporan as (

    select * from {{ ref('fct_kkbpk_bulanan') }}

),

kampung_kb as (

    select * from {{ ref('dim_kampung_kb') }}

),

intervensi as (

    select * from {{ ref('fct_intervensi') }}

),

intervensi_instansi as (

    select * from {{ ref('bridge_intervensi_instansi') }}

),

instansi_tahun_berjalan as (

    select
        laporan.kampung_kb_id,
        laporan.periode_key,
        count(distinct intervensi_instansi.instansi) as jumlah_instansi
    from laporan
    inner join intervensi
        on
            laporan.kampung_kb_id = intervensi.kampung_kb_id
            and intervensi.periode_key between laporan.tahun * 100 + 1 and laporan.periode_key
    inner join intervensi_instansi
        on intervensi.intervensi_key = intervensi_instansi.intervensi_key
    group by laporan.kampung_kb_id, laporan.periode_key

),

final as (

    select
        laporan.kampung_kb_id,
        laporan.kampung_kb_key,
        laporan.wilayah_key,
        laporan.kode_desa,
        laporan.periode_key,
        laporan.tahun,
        laporan.bulan,

        -- INPUT (profile version valid in the month; NULL for a version without a profile)
        kampung_kb.pokja_ada,
        kampung_kb.pokja_jumlah,
        kampung_kb.pokja_terlatih_ada,
        kampung_kb.jumlah_sumber_dana,
        kampung_kb.jumlah_poktan,
        kampung_kb.sekretariat_ada,
        kampung_kb.rumah_dataku_ada,
        kampung_kb.plkb_pendamping_ada,
        kampung_kb.regulasi_ada,

        -- PROSES
        kampung_kb.jumlah_penggunaan_data,
        kampung_kb.jumlah_mekanisme_operasional,
        coalesce(instansi_tahun_berjalan.jumlah_instansi, 0) as jumlah_instansi,

        -- OUTPUT (percentages 0-100, NULL when the denominator is 0)
        {{ persentase('laporan.ikut_bkb', 'laporan.kel_balita') }} as partisipasi_bkb,
        {{ persentase('laporan.ikut_bkr', 'laporan.kel_remaja') }} as partisipasi_bkr,
        {{ persentase('laporan.ikut_bkl', 'laporan.kel_lansia') }} as partisipasi_bkl,
        {{ persentase('laporan.ikut_uppka', 'laporan.jml_keluarga') }} as partisipasi_uppka,
        {{ persentase('laporan.ikut_pikr', 'laporan.jml_remaja') }} as partisipasi_pikr,
        {{ persentase('laporan.pa_total', 'laporan.jml_pus') }} as cpr,
        {{ persentase('laporan.pa_mkjp', 'laporan.pa_total') }} as mkjp,
        {{ persentase('laporan.non_kb_unmet', 'laporan.jml_pus') }} as unmet_need

    from laporan
    left join kampung_kb
        on laporan.kampung_kb_key = kampung_kb.kampung_kb_key
    left join instansi_tahun_berjalan
        on
            laporan.kampung_kb_id = instansi_tahun_berjalan.kampung_kb_id
            and laporan.periode_key = instansi_tahun_berjalan.periode_key

)

select * from final
