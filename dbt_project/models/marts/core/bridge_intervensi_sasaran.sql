-- One row per activity and target group (the sasaran list of the post, unnested, duplicates dropped).

with

intervensi as (

    select
        intervensi_id,
        {{ unnest_distinct('sasaran', 'sasaran') }}
    from {{ ref('stg_landing__intervensi') }}

),

sasaran as (

    select * from {{ ref('dim_sasaran') }}

),

final as (

    select
        {{ surrogate_key(['intervensi.intervensi_id']) }} as intervensi_key,
        sasaran.sasaran_key,
        intervensi.sasaran
    from intervensi
    left join sasaran
        on intervensi.sasaran = sasaran.sasaran

)

select * from final
