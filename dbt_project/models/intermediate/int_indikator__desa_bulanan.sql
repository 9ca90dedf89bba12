-- The additive parts of every indicator (numerators and denominators), per desa/kelurahan and month: the one place
-- the reporting marts of every region level aggregate from (an indicator above the desa is the ratio of the sums,
-- never a mean of ratios). The spine is every desa of a province that has any data, times every month from the
-- first to the last month with any data, so a desa that reported nothing shows zeros, not a missing row.
-- Counts that are not additive (distinct partner agencies, coverage) are computed per level in the marts.

with

laporan as (

    select
        kode_desa,
        periode_key,
        count(*) as jumlah_laporan,
        sum(case when is_tepat_waktu then 1 else 0 end) as jumlah_tepat_waktu,
        sum(jml_pus) as jml_pus,
        sum(pa_total) as pa_total,
        sum(pa_mkjp) as pa_mkjp,
        sum(non_kb_unmet) as non_kb_unmet,
        sum(ikut_bkb) as ikut_bkb,
        sum(kel_balita) as kel_balita,
        sum(ikut_bkr) as ikut_bkr,
        sum(kel_remaja) as kel_remaja,
        sum(ikut_bkl) as ikut_bkl,
        sum(kel_lansia) as kel_lansia,
        sum(ikut_uppka) as ikut_uppka,
        sum(jml_keluarga) as jml_keluarga,
        sum(ikut_pikr) as ikut_pikr,
        sum(jml_remaja) as jml_remaja
    from {{ ref('fct_kkbpk_bulanan') }}
    group by kode_desa, periode_key

),

skdn as (

    select
        kode_desa,
        periode_key,
        count(*) as jumlah_posyandu_lapor,
        sum(s) as s,
        sum(k) as k,
        sum(d) as d,
        sum(n) as n,
        sum(bgm) as bgm,
        sum(balita_diukur_tb) as balita_diukur_tb,
        sum(pendek) as pendek,
        sum(sangat_pendek) as sangat_pendek
    from {{ ref('fct_posyandu_bulanan') }}
    group by kode_desa, periode_key

),

pengukuran as (

    select
        kode_desa,
        periode_key,
        count(*) as anak_diukur,
        sum(case when is_pendek then 1 else 0 end) as anak_pendek,
        sum(case when is_sangat_pendek then 1 else 0 end) as anak_sangat_pendek
    from {{ ref('fct_pengukuran_balita') }}
    group by kode_desa, periode_key

),

keluarga as (

    -- the PK round of the month's year
    select
        kode_desa,
        tahun_pendataan,
        count(*) as keluarga,
        sum(case when is_sasaran then 1 else 0 end) as keluarga_sasaran,
        sum(case when is_sasaran and krs = 1 then 1 else 0 end) as keluarga_krs
    from {{ ref('fct_keluarga_pendataan') }}
    group by kode_desa, tahun_pendataan

),

klasifikasi as (

    select
        kode_desa,
        periode_key,
        sum(case when klasifikasi = 'Dasar' then 1 else 0 end) as kampung_kb_dasar,
        sum(case when klasifikasi = 'Berkembang' then 1 else 0 end) as kampung_kb_berkembang,
        sum(case when klasifikasi = 'Mandiri' then 1 else 0 end) as kampung_kb_mandiri,
        sum(case when klasifikasi = 'Berkelanjutan' then 1 else 0 end) as kampung_kb_berkelanjutan
    from {{ ref('fct_kampung_kb_klasifikasi') }}
    group by kode_desa, periode_key

),

kampung_kb_aktif as (

    select
        kode_desa,
        periode_key,
        count(distinct kampung_kb_id) as jumlah_kampung_kb_aktif
    from {{ ref('int_kampung_kb__aktif_bulanan') }}
    group by kode_desa, periode_key

),

bulan_berdata as (

    select periode_key from laporan
    union
    select periode_key from skdn
    union
    select periode_key from pengukuran

),

provinsi_berdata as (

    select distinct left(kode_desa, 2) as kode_prov from laporan
    union
    select distinct left(kode_desa, 2) as kode_prov from skdn
    union
    select distinct left(kode_desa, 2) as kode_prov from keluarga

),

spine as (

    select
        wilayah.kode_desa,
        periode.periode_key,
        periode.tahun,
        periode.bulan
    from {{ ref('dim_wilayah') }} as wilayah
    inner join provinsi_berdata
        on wilayah.kode_prov = provinsi_berdata.kode_prov
    cross join {{ ref('dim_periode') }} as periode
    where periode.periode_key between (select min(bulan_berdata.periode_key) from bulan_berdata)
        and (select max(bulan_berdata.periode_key) from bulan_berdata)

),

final as (

    select
        spine.kode_desa,
        spine.periode_key,
        spine.tahun,
        spine.bulan,
        coalesce(kampung_kb_aktif.jumlah_kampung_kb_aktif, 0) as jumlah_kampung_kb_aktif,
        coalesce(laporan.jumlah_laporan, 0) as jumlah_laporan,
        coalesce(laporan.jumlah_tepat_waktu, 0) as jumlah_tepat_waktu,
        coalesce(laporan.jml_pus, 0) as jml_pus,
        coalesce(laporan.pa_total, 0) as pa_total,
        coalesce(laporan.pa_mkjp, 0) as pa_mkjp,
        coalesce(laporan.non_kb_unmet, 0) as non_kb_unmet,
        coalesce(laporan.ikut_bkb, 0) as ikut_bkb,
        coalesce(laporan.kel_balita, 0) as kel_balita,
        coalesce(laporan.ikut_bkr, 0) as ikut_bkr,
        coalesce(laporan.kel_remaja, 0) as kel_remaja,
        coalesce(laporan.ikut_bkl, 0) as ikut_bkl,
        coalesce(laporan.kel_lansia, 0) as kel_lansia,
        coalesce(laporan.ikut_uppka, 0) as ikut_uppka,
        coalesce(laporan.jml_keluarga, 0) as jml_keluarga,
        coalesce(laporan.ikut_pikr, 0) as ikut_pikr,
        coalesce(laporan.jml_remaja, 0) as jml_remaja,
        coalesce(skdn.jumlah_posyandu_lapor, 0) as jumlah_posyandu_lapor,
        coalesce(skdn.s, 0) as s,
        coalesce(skdn.k, 0) as k,
        coalesce(skdn.d, 0) as d,
        coalesce(skdn.n, 0) as n,
        coalesce(skdn.bgm, 0) as bgm,
        coalesce(skdn.balita_diukur_tb, 0) as balita_diukur_tb,
        coalesce(skdn.pendek, 0) as pendek,
        coalesce(skdn.sangat_pendek, 0) as sangat_pendek,
        coalesce(pengukuran.anak_diukur, 0) as anak_diukur,
        coalesce(pengukuran.anak_pendek, 0) as anak_pendek,
        coalesce(pengukuran.anak_sangat_pendek, 0) as anak_sangat_pendek,
        coalesce(keluarga.keluarga, 0) as keluarga,
        coalesce(keluarga.keluarga_sasaran, 0) as keluarga_sasaran,
        coalesce(keluarga.keluarga_krs, 0) as keluarga_krs,
        coalesce(klasifikasi.kampung_kb_dasar, 0) as kampung_kb_dasar,
        coalesce(klasifikasi.kampung_kb_berkembang, 0) as kampung_kb_berkembang,
        coalesce(klasifikasi.kampung_kb_mandiri, 0) as kampung_kb_mandiri,
        coalesce(klasifikasi.kampung_kb_berkelanjutan, 0) as kampung_kb_berkelanjutan
    from spine
    left join laporan
        on spine.kode_desa = laporan.kode_desa and spine.periode_key = laporan.periode_key
    left join skdn
        on spine.kode_desa = skdn.kode_desa and spine.periode_key = skdn.periode_key
    left join pengukuran
        on spine.kode_desa = pengukuran.kode_desa and spine.periode_key = pengukuran.periode_key
    left join keluarga
        on spine.kode_desa = keluarga.kode_desa and spine.tahun = keluarga.tahun_pendataan
    left join klasifikasi
        on spine.kode_desa = klasifikasi.kode_desa and spine.periode_key = klasifikasi.periode_key
    left join kampung_kb_aktif
        on spine.kode_desa = kampung_kb_aktif.kode_desa and spine.periode_key = kampung_kb_aktif.periode_key

)

select * from final
