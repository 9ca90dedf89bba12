-- One row per child measurement (e-PPGBM, the latest delivery of each child and date), with its keys and the WHO
-- 2006 length/height-for-age z-score (macros/who_zscore.sql, reference table seed who_lhfa_lms).
-- The desa comes from dim_posyandu; a measurement at a posyandu missing from the master list takes the desa from
-- the first 10 digits of its kode_posyandu, dotted (as in fct_posyandu_bulanan).

with

pengukuran as (

    select * from {{ ref('stg_landing__eppgbm') }}

),

posyandu as (

    select * from {{ ref('dim_posyandu') }}

),

lms as (

    select * from {{ ref('who_lhfa_lms') }}

),

joined as (

    select
        pengukuran.nik_anak_hash,
        pengukuran.kode_posyandu,
        pengukuran.tanggal_ukur,
        pengukuran.umur_bulan,
        pengukuran.jenis_kelamin,
        pengukuran.berat_kg,
        pengukuran.tinggi_cm,
        pengukuran.cara_ukur,
        {{ fact_lineage('pengukuran') }},
        lms.l,
        lms.m,
        lms.s,
        coalesce(
            posyandu.kode_desa,
            substr(pengukuran.kode_posyandu, 1, 2) || '.' || substr(pengukuran.kode_posyandu, 3, 2) || '.'
            || substr(pengukuran.kode_posyandu, 5, 2) || '.' || substr(pengukuran.kode_posyandu, 7, 4)
        ) as kode_desa
    from pengukuran
    left join posyandu
        on pengukuran.kode_posyandu = posyandu.kode_posyandu
    left join lms
        on
            pengukuran.jenis_kelamin = lms.jenis_kelamin
            and pengukuran.umur_bulan = lms.umur_bulan

),

dikoreksi as (

    -- the length/height the WHO table is read at: +-0.7 cm when measured lying/standing against the age's rule
    select
        *,
        {{ who_tinggi_terkoreksi('tinggi_cm', 'umur_bulan', 'cara_ukur') }} as tinggi_terkoreksi_cm
    from joined

),

scored as (

    select
        *,
        cast({{ who_lms_zscore('tinggi_terkoreksi_cm', 'l', 'm', 's') }} as {{ type_double() }}) as haz
    from dikoreksi

),

final as (

    select
        {{ surrogate_key(['nik_anak_hash', 'tanggal_ukur']) }} as pengukuran_key,
        nik_anak_hash as anak_key,
        {{ surrogate_key(['kode_posyandu']) }} as posyandu_key,
        kode_posyandu,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_desa,
        {{ periode_key('extract(year from tanggal_ukur)', 'extract(month from tanggal_ukur)') }} as periode_key,
        cast(extract(year from tanggal_ukur) as integer) as tahun,
        cast(extract(month from tanggal_ukur) as integer) as bulan,
        tanggal_ukur,
        umur_bulan,
        jenis_kelamin,
        berat_kg,
        tinggi_cm,
        cara_ukur,
        haz,
        haz >= -3 and haz < -2 as is_pendek,
        haz < -3 as is_sangat_pendek,
        cast({{ kategori_tb_u('haz') }} as {{ type_string() }}) as kategori_tb_u,
        {{ fact_lineage() }}
    from scored

)

select * from final
