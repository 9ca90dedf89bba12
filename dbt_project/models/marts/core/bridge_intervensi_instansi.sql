-- One row per activity and partner agency taking part (the instansi list of the post, unnested, duplicates dropped).

with

intervensi as (

    select
        intervensi_id,
        {{ unnest_distinct('instansi', 'instansi') }}
    from {{ ref('stg_landing__intervensi') }}

),

instansi as (

    select * from {{ ref('dim_instansi') }}

),

final as (

    select
        {{ surrogate_key(['intervensi.intervensi_id']) }} as intervensi_key,
        instansi.instansi_key,
        intervensi.instansi
    from intervensi
    left join instansi
        on intervensi.instansi = instansi.instansi

)

select * from final
