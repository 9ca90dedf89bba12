-- One row per pseudonymised family: the keyed hash keluarga_id (no names, no NIK, no No. KK), where it lived at its
-- latest PK round (kode_desa, rw) and how many members the member register (Blok I) lists for it.
-- A family is in the dimension when it has at least one PK round in stg_landing__pk_keluarga.

with

pendataan as (

    select * from {{ ref('stg_landing__pk_keluarga') }}

),

anggota as (

    select * from {{ ref('stg_landing__pk_anggota') }}

),

pendataan_terakhir as (

    select
        keluarga_id,
        kode_desa,
        rw,
        tahun_pendataan,
        row_number() over (
            partition by keluarga_id
            order by tahun_pendataan desc
        ) as urutan_terbaru
    from pendataan

),

jumlah_anggota as (

    select
        keluarga_id,
        count(*) as jumlah_anggota_terdaftar
    from anggota
    group by keluarga_id

),

final as (

    select
        {{ surrogate_key(['pendataan_terakhir.keluarga_id']) }} as keluarga_key,
        pendataan_terakhir.keluarga_id,
        pendataan_terakhir.kode_desa,
        {{ wilayah_key('pendataan_terakhir.kode_desa') }} as wilayah_key,
        pendataan_terakhir.rw,
        cast(coalesce(jumlah_anggota.jumlah_anggota_terdaftar, 0) as integer) as jumlah_anggota_terdaftar,
        pendataan_terakhir.tahun_pendataan as tahun_pendataan_terakhir
    from pendataan_terakhir
    left join jumlah_anggota
        on pendataan_terakhir.keluarga_id = jumlah_anggota.keluarga_id
    where pendataan_terakhir.urutan_terbaru = 1

)

select * from final
