-- One row per desa/kelurahan of the Kemendagri list (83,762), with its kecamatan, kabupaten/kota and provinsi.
-- wilayah_key hashes kode_desa only: a later decree that renames a desa updates the row and keeps the key (the
-- decree in force is in `sumber`); history across decrees, if ever needed, would add `sumber` to the key.

with

wilayah as (

    select * from {{ ref('stg_reference__wilayah') }}

),

final as (

    select
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_desa,
        nama_desa,
        jenis_desa,
        kode_kec,
        nama_kec,
        kode_kab,
        nama_kab,
        jenis_kab,
        kode_prov,
        nama_prov,
        sumber
    from wilayah

)

select * from final
