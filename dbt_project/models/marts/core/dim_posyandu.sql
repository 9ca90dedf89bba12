-- One row per posyandu: its latest master list (the highest tahun it appears in), with the desa it serves.

with

master as (

    select * from {{ ref('stg_landing__posyandu') }}

),

ranked as (

    select
        *,
        row_number() over (partition by kode_posyandu order by tahun desc) as tahun_rank
    from master

),

final as (

    select
        {{ surrogate_key(['kode_posyandu']) }} as posyandu_key,
        kode_posyandu,
        nama_posyandu,
        kode_desa,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_puskesmas,
        strata,
        jumlah_kader,
        tahun
    from ranked
    where tahun_rank = 1

)

select * from final
