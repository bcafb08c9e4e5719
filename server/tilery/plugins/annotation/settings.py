"""The annotation plugin's settings (``annotation.<name>``)."""
import dataclasses

from ...settings import Settings, SettingsGroup, setting


@dataclasses.dataclass(frozen=True)
class AnnotationSettings(SettingsGroup):
    """Storage and size limits, read once when the plugin loads."""

    prefix = 'annotation'

    # measured on 1M rectangles (bench/bench_annotations_engine.py): 1000-element chunks
    # made ~1% region queries 3x faster than 2000 (p95 43 ms against 187 ms)
    chunk_size: int = setting(1000, 'Elements per stored chunk.')
    batch_size: int = setting(
        200000, 'Elements buffered and spatially sorted together on ingest.')
    history_keep: int | None = setting(
        None, 'Keep only the newest N versions of an annotation (None: all).')
    max_upload_bytes: int = setting(1536 << 20, 'Largest annotation body or file, in bytes.')
    max_mask_pixels: int = setting(400 << 20, 'Largest label mask rendered, in pixels.')


def options(max_json_depth=Settings.max_json_depth, **overrides):
    """The settings as the service keeps them: a dict, defaults plus ``overrides``, and
    the core's ``max_json_depth`` (the app passes its own), which annotation files obey."""
    return dict(dataclasses.asdict(AnnotationSettings(**overrides)),
                max_json_depth=max_json_depth)
