"""The labels plugin's settings (``labels.<name>``)."""
import dataclasses

from ...settings import SettingsGroup, setting


@dataclasses.dataclass(frozen=True)
class LabelSettings(SettingsGroup):
    """Size limits of masks and superpixels, read once when the plugin loads."""

    prefix = 'labels'

    max_mask_bytes: int = setting(512 << 20, 'Largest mask upload accepted, in bytes.')
    max_superpixel_size: int = setting(2048, 'Largest side of a superpixel answer.')
