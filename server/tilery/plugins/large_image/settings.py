"""The large-image plugin's settings, and the process-wide configuration of large_image."""
import dataclasses
import logging

from ...settings import SettingsGroup, setting

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LargeImageSettings(SettingsGroup):
    """The plugin's settings (``large_image.<name>``), read once when it loads."""

    prefix = 'large_image'

    source_cache_size: int = setting(
        32, 'Open tile sources kept per process (each holds file handles and metadata).')
    item_cache_size: int = setting(
        128, 'Items whose access check the tile routes reuse (for auth_cache_seconds).')
    tile_cache_items: int = setting(
        1000, "Entries in large_image's in-process tile cache (tiles, thumbnails).")
    memcached_url: str = setting(
        '', 'memcached servers (comma-separated host:port) for the tile cache, shared by '
            'every server process; empty: an in-process cache.')
    region_max_pixels: int = setting(
        8192 * 8192, 'Largest region, thumbnail or frame mosaic (in pixels, read or written) '
                     'one request may ask for.')
    image_max_pixels: int = setting(
        10 ** 11, 'Images claiming more pixels than this are refused as corrupt.')
    auto_set: bool = setting(
        True, 'Make uploaded images large images: directly when a tile source reads them, '
              'else by a conversion job.')
    remove_original: bool = setting(
        False, 'Delete the uploaded original once its conversion succeeded.')
    convert_compression: str = setting(
        'auto', 'auto (JPEG for 8-bit RGB, else lossless deflate), jpeg, deflate, lzw or none.')
    convert_quality: int = setting(90, 'JPEG quality of converted images.')
    convert_tile_size: int = setting(256, 'Tile size of converted images.')
    convert_threads: int = setting(0, 'libvips threads per conversion (0: one per core).')
    tile_cache_control: str = setting(
        'private, max-age=600', 'Cache-Control header of tiles and images.')
    # given by the server, not settings of their own
    work_dir: str = None  # where conversions write before the result is stored
    item_cache_seconds: float = 5.0  # tile routes reuse an item's access check this long

    @classmethod
    def from_settings(cls, settings, **extra):
        """Read ``large_image.*`` keys from an object with ``get(key, default)``."""
        return cls.read(settings, **extra)


def configure_large_image(settings):
    """Set large_image's process-wide caches from ``settings``.

    large_image keeps its caches in module globals, created on first use: the first
    configuration in a process decides their size and backend.
    """
    import large_image  # here, not above: the conversion worker imports this package
    config = large_image.config
    config.setConfig('cache_tilesource_maximum', max(1, settings.source_cache_size))
    config.setConfig('cache_tileCache_maximum', max(3, settings.tile_cache_items))
    if settings.memcached_url:
        config.setConfig('cache_backend', 'memcached')
        config.setConfig('cache_memcached_url', [
            url.strip() for url in settings.memcached_url.split(',') if url.strip()])
    else:
        config.setConfig('cache_backend', 'python')
    if large_image.cache_util.isTileCacheSetup():
        log.info('large_image caches already exist in this process; their sizes stay as '
                 'they were first set')
