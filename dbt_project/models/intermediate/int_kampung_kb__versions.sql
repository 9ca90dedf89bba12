-- Versions of each Kampung KB (SCD type 2), derived deterministically from everything landing holds: the
-- equivalent of a dbt snapshot, but rebuildable from scratch, because landing keeps every profile version ever
-- received (a snapshot would only see what is there at each run).
--
-- * sumber = 'profil': every month with a profile (stg_landing__profil_kampung_kb, latest resubmission per month)
--   starts a version with that profile's attributes.
-- * sumber = 'laporan': months a Kampung KB reported before its first profile (or with no profile at all) are
--   covered by versions derived from its monthly reports (a change of kode_desa starts a new one), with NULL
--   profile attributes, so that every report still finds the version valid in its month.
-- valid_from is the first day of the version's month; valid_to the day before the next version starts (inclusive,
-- NULL for the current version).

with

laporan as (

    select
        kampung_kb_id,
        kode_desa,
        {{ periode_awal('tahun', 'bulan') }} as periode_awal
    from {{ ref('stg_landing__kkbpk_bulanan') }}

),

profil as (

    select
        *,
        {{ periode_awal('tahun', 'bulan') }} as periode_awal
    from {{ ref('stg_landing__profil_kampung_kb') }}

),

profil_pertama as (

    select
        kampung_kb_id,
        min(periode_awal) as periode_awal
    from profil
    group by kampung_kb_id

),

-- gaps and islands over the reported months: a new island starts where kode_desa changes
laporan_flagged as (

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

laporan_numbered as (

    select
        kampung_kb_id,
        kode_desa,
        periode_awal,
        sum(is_new_version) over (
            partition by kampung_kb_id
            order by periode_awal
            rows between unbounded preceding and current row
        ) as island
    from laporan_flagged

),

laporan_versions as (

    select
        laporan_numbered.kampung_kb_id,
        laporan_numbered.island,
        min(laporan_numbered.kode_desa) as kode_desa,
        min(laporan_numbered.periode_awal) as valid_from
    from laporan_numbered
    left join profil_pertama
        on laporan_numbered.kampung_kb_id = profil_pertama.kampung_kb_id
    -- only the months before the first profile: from then on the profile history rules
    where
        profil_pertama.periode_awal is null
        or laporan_numbered.periode_awal < profil_pertama.periode_awal
    group by laporan_numbered.kampung_kb_id, laporan_numbered.island

),

unioned as (

    select
        'laporan' as sumber,
        kampung_kb_id,
        kode_desa,
        valid_from,
        cast(null as {{ type_string() }}) as nama_kampung,
        cast(null as {{ type_string() }}) as rw,
        cast(null as {{ type_string() }}) as cakupan_wilayah,
        cast(null as date) as tanggal_pencanangan,
        cast(null as {{ type_double() }}) as latitude,
        cast(null as {{ type_double() }}) as longitude,
        cast(null as integer) as pokja_ada,
        cast(null as integer) as pokja_sk_ada,
        cast(null as integer) as pokja_jumlah,
        cast(null as integer) as pokja_terlatih_ada,
        cast(null as integer) as pokja_jumlah_terlatih,
        cast(null as integer) as plkb_pendamping_ada,
        cast(null as integer) as regulasi_ada,
        cast(null as integer) as regulasi_jenis,
        cast(null as integer) as rkm_ada,
        cast(null as integer) as sekretariat_ada,
        cast(null as integer) as rumah_dataku_ada,
        cast(null as {{ type_string() }}) as rumah_dataku_klasifikasi,
        cast(null as integer) as poktan_bkb,
        cast(null as integer) as poktan_bkr,
        cast(null as integer) as poktan_bkl,
        cast(null as integer) as poktan_uppka,
        cast(null as integer) as poktan_pikr,
        cast(null as {{ type_string_list() }}) as sumber_dana,
        cast(null as {{ type_string_list() }}) as penggunaan_data,
        cast(null as {{ type_string_list() }}) as mekanisme_operasional,
        cast(null as integer) as is_active
    from laporan_versions

    union all

    select
        'profil' as sumber,
        kampung_kb_id,
        kode_desa,
        periode_awal as valid_from,
        nama_kampung,
        rw,
        cakupan_wilayah,
        tanggal_pencanangan,
        latitude,
        longitude,
        pokja_ada,
        pokja_sk_ada,
        pokja_jumlah,
        pokja_terlatih_ada,
        pokja_jumlah_terlatih,
        plkb_pendamping_ada,
        regulasi_ada,
        regulasi_jenis,
        rkm_ada,
        sekretariat_ada,
        rumah_dataku_ada,
        rumah_dataku_klasifikasi,
        poktan_bkb,
        poktan_bkr,
        poktan_bkl,
        poktan_uppka,
        poktan_pikr,
        sumber_dana,
        penggunaan_data,
        mekanisme_operasional,
        is_active
    from profil

),

final as (

    select
        *,
        cast(row_number() over (partition by kampung_kb_id order by valid_from) as integer) as version_number,
        lead(valid_from) over (partition by kampung_kb_id order by valid_from) - 1 as valid_to
    from unioned

)

select
    {{ surrogate_key(['kampung_kb_id', 'valid_from']) }} as kampung_kb_key,
    kampung_kb_id,
    version_number,
    sumber,
    kode_desa,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    nama_kampung,
    rw,
    cakupan_wilayah,
    tanggal_pencanangan,
    latitude,
    longitude,
    pokja_ada,
    pokja_sk_ada,
    pokja_jumlah,
    pokja_terlatih_ada,
    pokja_jumlah_terlatih,
    plkb_pendamping_ada,
    regulasi_ada,
    regulasi_jenis,
    rkm_ada,
    sekretariat_ada,
    rumah_dataku_ada,
    rumah_dataku_klasifikasi,
    poktan_bkb,
    poktan_bkr,
    poktan_bkl,
    poktan_uppka,
    poktan_pikr,
    sumber_dana,
    penggunaan_data,
    mekanisme_operasional,
    -- distinct items; an empty or missing list counts 0 (NULL only for a version without a profile)
    case when sumber = 'profil' then coalesce({{ list_distinct_count('sumber_dana') }}, 0) end as jumlah_sumber_dana,
    case
        when sumber = 'profil' then coalesce({{ list_distinct_count('penggunaan_data') }}, 0)
    end as jumlah_penggunaan_data,
    case
        when sumber = 'profil' then coalesce({{ list_distinct_count('mekanisme_operasional') }}, 0)
    end as jumlah_mekanisme_operasional,
    is_active
from final
