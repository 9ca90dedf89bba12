-- One row per family member (Blok I of the PK): sex, age group and the coded attributes, keyed to the family.
-- No NIK (not even its hash), no name, no birth date: the person is identified by family key and member number only.
-- Members of a family that is not in dim_keluarga (its PK row was quarantined at ingestion, e.g. an unknown
-- kode_desa) are left out: without the family there is no desa to count them in. They stay in staging.

with

anggota as (

    select * from {{ ref('stg_landing__pk_anggota') }}

),

keluarga as (

    select * from {{ ref('dim_keluarga') }}

),

final as (

    select
        {{ surrogate_key(['anggota.keluarga_id', 'anggota.nomor_anggota']) }} as anggota_key,
        keluarga.keluarga_key,
        anggota.nomor_anggota,
        anggota.jenis_kelamin,
        anggota.umur_tahun,
        case
            when anggota.umur_tahun < 5 then 'balita'
            when anggota.umur_tahun < 10 then 'anak'
            when anggota.umur_tahun < 25 then 'remaja'
            when anggota.umur_tahun < 60 then 'dewasa'
            when anggota.umur_tahun >= 60 then 'lansia'
        end as kelompok_umur,
        anggota.status_kawin,
        anggota.hubungan_kk,
        anggota.pendidikan,
        anggota.pekerjaan,
        anggota.jkn,
        {{ fact_lineage('anggota') }}
    from anggota
    inner join keluarga
        on anggota.keluarga_id = keluarga.keluarga_id

)

select * from final
