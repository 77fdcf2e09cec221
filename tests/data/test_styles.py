"""Built-in style pictures: every family draws, from a seed, the same picture every time."""

from __future__ import annotations

import numpy as np
import pytest

from artforge.data.styles import FAMILIES, photo_paths, style_image, style_images


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_draws_a_varied_picture_repeatably(family):
    a = np.asarray(style_image(family, 3, px=64))
    assert a.shape == (64, 64, 3) and a.std() > 5                   # not a flat colour
    assert np.array_equal(a, np.asarray(style_image(family, 3, px=64)))
    assert not np.array_equal(a, np.asarray(style_image(family, 4, px=64)))


def test_style_images_cycle_through_the_families_and_photos_are_found():
    assert len(style_images(9, px=32)) == 9
    photos = photo_paths()
    assert len(photos) >= 5 and all(p.is_file() for p in photos)
