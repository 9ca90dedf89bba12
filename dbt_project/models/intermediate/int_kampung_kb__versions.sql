-- Versions of each Kampung KB as far as the monthly reports tell: a new version starts in the first month a
-- Kampung KB reports a different kode_desa than in its previous report (gaps and islands over the reported months).
-- Until the profile export arrives (a later issue: pokja, rumah dataku, class ...), this is what dim_kampung_kb
-- versions on; it then becomes the profile history, with the same valid_from / valid_to / is_current columns.

with

laporan as (

    select
        kampung_kb_id,
        kode_desa,
        {{ periode_awal('tahun', 'bulan') }} as periode_awal
    from {{ ref('stg_landing__kkbpk_bulanan') }}

),

flagged as (

    select
        kampung_kb_id,
        kode_desa,
        periode_awal,
        case
            when kode_desa = lag(kode_desa) over (partition by kampung_kb_id order by periode_awal) then 0
            else 1
        end as is_new_version
    from laporan

),

numbered as (

    select
        kampung_kb_id,
        kode_desa,
        periode_awal,
        sum(is_new_version) over (
            partition by kampung_kb_id
            order by periode_awal
            rows between unbounded preceding and current row
        ) as version_number
    from flagged

),

versions as (

    select
        kampung_kb_id,
        version_number,
        min(kode_desa) as kode_desa,
        min(periode_awal) as valid_from
    from numbered
    group by kampung_kb_id, version_number

),

final as (

    select
        kampung_kb_id,
        cast(version_number as integer) as version_number,
        kode_desa,
        valid_from,
        lead(valid_from) over (partition by kampung_kb_id order by valid_from) as valid_to
    from versions

)

select
    kampung_kb_id,
    version_number,
    kode_desa,
    valid_from,
    valid_to,
    valid_to is null as is_current
from final
