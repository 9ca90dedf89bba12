-- One row per Kampung KB and month it reported: its own monthly report beside the figures of its desa/kelurahan
-- from the other sources (the posyandu's SKDN recaps and e-PPGBM measurements, the PK families of the round of the
-- year), its partner agencies that month and its class. The linkage across sources is the kode_desa.

with

laporan as (

    select * from {{ ref('fct_kkbpk_bulanan') }}

),

kampung_kb as (

    select * from {{ ref('dim_kampung_kb') }}

),

wilayah as (

    select * from {{ ref('dim_wilayah') }}

),

desa as (

    select * from {{ ref('int_indikator__desa_bulanan') }}

),

klasifikasi as (

    select * from {{ ref('fct_kampung_kb_klasifikasi') }}

),

instansi as (

    select
        intervensi.kampung_kb_id,
        intervensi.periode_key,
        count(distinct bridge.instansi) as jumlah_instansi
    from {{ ref('fct_intervensi') }} as intervensi
    inner join {{ ref('bridge_intervensi_instansi') }} as bridge
        on intervensi.intervensi_key = bridge.intervensi_key
    group by intervensi.kampung_kb_id, intervensi.periode_key

),

final as (

    select
        laporan.kampung_kb_id,
        kampung_kb.nama_kampung,
        laporan.kode_desa,
        wilayah.nama_desa,
        wilayah.kode_kec,
        wilayah.nama_kec,
        wilayah.kode_kab,
        wilayah.nama_kab,
        laporan.tahun,
        laporan.bulan,
        laporan.periode_key,
        laporan.is_tepat_waktu,
        cast(laporan.jml_pus as bigint) as jml_pus,
        cast(laporan.pa_total as bigint) as pa_total,
        cast(laporan.pa_mkjp as bigint) as pa_mkjp,
        cast(laporan.non_kb_unmet as bigint) as non_kb_unmet,
        cast(laporan.ikut_bkb as bigint) as ikut_bkb,
        cast(laporan.kel_balita as bigint) as kel_balita,
        cast(laporan.ikut_bkr as bigint) as ikut_bkr,
        cast(laporan.kel_remaja as bigint) as kel_remaja,
        cast(laporan.ikut_bkl as bigint) as ikut_bkl,
        cast(laporan.kel_lansia as bigint) as kel_lansia,
        cast(laporan.ikut_uppka as bigint) as ikut_uppka,
        cast(laporan.jml_keluarga as bigint) as jml_keluarga,
        cast(laporan.ikut_pikr as bigint) as ikut_pikr,
        cast(laporan.jml_remaja as bigint) as jml_remaja,
        {{ persentase('laporan.pa_total', 'laporan.jml_pus') }} as cpr,
        {{ persentase('laporan.pa_mkjp', 'laporan.pa_total') }} as mkjp,
        {{ persentase('laporan.non_kb_unmet', 'laporan.jml_pus') }} as unmet_need,
        {{ persentase('laporan.ikut_bkb', 'laporan.kel_balita') }} as partisipasi_bkb,
        {{ persentase('laporan.ikut_bkr', 'laporan.kel_remaja') }} as partisipasi_bkr,
        {{ persentase('laporan.ikut_bkl', 'laporan.kel_lansia') }} as partisipasi_bkl,
        {{ persentase('laporan.ikut_uppka', 'laporan.jml_keluarga') }} as partisipasi_uppka,
        {{ persentase('laporan.ikut_pikr', 'laporan.jml_remaja') }} as partisipasi_pikr,
        cast(desa.jumlah_posyandu_lapor as bigint) as desa_jumlah_posyandu_lapor,
        {{ persentase('desa.d', 'desa.s') }} as desa_d_s,
        {{ persentase('desa.n', 'desa.d') }} as desa_n_d,
        {{ persentase('desa.pendek + desa.sangat_pendek', 'desa.balita_diukur_tb') }} as desa_stunting_skdn,
        cast(desa.anak_diukur as bigint) as desa_anak_diukur,
        {{ persentase('desa.anak_pendek + desa.anak_sangat_pendek', 'desa.anak_diukur') }} as desa_stunting,
        cast(desa.keluarga_sasaran as bigint) as desa_keluarga_sasaran,
        {{ persentase('desa.keluarga_krs', 'desa.keluarga_sasaran') }} as desa_krs_rate,
        cast(coalesce(instansi.jumlah_instansi, 0) as bigint) as jumlah_instansi,
        klasifikasi.skor_input,
        klasifikasi.skor_proses,
        klasifikasi.skor_output,
        klasifikasi.klasifikasi
    from laporan
    left join kampung_kb
        on laporan.kampung_kb_key = kampung_kb.kampung_kb_key
    left join wilayah
        on laporan.kode_desa = wilayah.kode_desa
    left join desa
        on laporan.kode_desa = desa.kode_desa and laporan.periode_key = desa.periode_key
    left join instansi
        on laporan.kampung_kb_id = instansi.kampung_kb_id and laporan.periode_key = instansi.periode_key
    left join klasifikasi
        on laporan.kampung_kb_id = klasifikasi.kampung_kb_id and laporan.periode_key = klasifikasi.periode_key

)

select * from final
