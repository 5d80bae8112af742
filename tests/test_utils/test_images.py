"""read_image: missing, corrupt, truncated and wrong-size images are refused
with a reason and the file name."""
import cv2
import numpy as np
import pytest

from ovd_ext.utils.images import ImageReadError, check_complete, read_image


def _image(h=64, w=80):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, size=(h, w, 3), dtype=np.uint8)


@pytest.fixture
def files(tmp_path):
    img = _image()
    jpg, png = tmp_path / 'a.jpg', tmp_path / 'a.png'
    cv2.imwrite(str(jpg), img)
    cv2.imwrite(str(png), img)
    return img, jpg, png


def test_good_images(files):
    img, jpg, png = files
    assert np.array_equal(read_image(str(png)), img)
    assert read_image(str(jpg), 80, 64).shape == (64, 80, 3)


def test_rgb_order_matches_pillow(files):
    from PIL import Image
    img, _, png = files
    rgb = read_image(str(png), channel_order='rgb')
    assert np.array_equal(rgb, img[..., ::-1])
    with Image.open(png) as im:
        assert np.array_equal(rgb, np.asarray(im.convert('RGB')))
    assert rgb.flags.writeable and rgb.flags.c_contiguous
    with pytest.raises(ValueError, match="channel_order must be 'bgr' or"):
        read_image(str(png), channel_order='RGB ')


def test_truncated_jpeg_is_refused(files, tmp_path):
    _, jpg, _ = files
    data = jpg.read_bytes()
    cut = tmp_path / 'cut.jpg'
    cut.write_bytes(data[:len(data) * 2 // 3])
    # OpenCV alone decodes it (grey rows at the bottom) ...
    assert cv2.imread(str(cut)) is not None
    # ... read_image does not
    with pytest.raises(ImageReadError, match='truncated file .*cut.jpg') as e:
        read_image(str(cut))
    assert e.value.reason == 'truncated' and e.value.path == str(cut)
    assert read_image(str(cut), check_truncated=False).shape == (64, 80, 3)
    with pytest.raises(ImageReadError, match='truncated'):
        check_complete(data[:len(data) // 2])
    check_complete(data)                      # the whole file passes
    check_complete(b'not an image format Pillow knows')   # left to OpenCV


def test_truncated_png_is_refused(files, tmp_path):
    _, _, png = files
    data = png.read_bytes()
    for n in (40, len(data) // 2, len(data) - 12):      # ... up to IEND
        cut = tmp_path / f'cut{n}.png'
        cut.write_bytes(data[:n])
        with pytest.raises(ImageReadError) as e:
            read_image(str(cut))
        assert e.value.reason in ('corrupt', 'truncated')
        assert str(cut) in str(e.value)


def test_missing_corrupt_and_wrong_size(files, tmp_path):
    _, jpg, _ = files
    for path, reason, msg in (
            (tmp_path / 'none.png', 'missing', 'missing file'),
            (tmp_path / 'bad.png', 'corrupt', 'cannot decode')):
        if reason == 'corrupt':
            path.write_bytes(b'not a png at all')
        with pytest.raises(ImageReadError, match=msg) as e:
            read_image(str(path))
        assert e.value.reason == reason
    with pytest.raises(ImageReadError, match='is 80x64 but the json says '
                       '81x64') as e:
        read_image(str(jpg), 81, 64)
    assert e.value.reason == 'size_mismatch'
