"""The demo's custom vocabulary."""
import pytest

from ovd_ext.apis.vocabulary_demo import custom_classes


def test_replace_and_remove_keep_order():
    assert custom_classes(['circle', 'ring', 'star'],
                          {'replace': {'ring': 'donut'},
                           'remove': ['circle']}) == ['donut', 'star']


def test_unknown_class_is_an_error():
    with pytest.raises(ValueError, match=r"unknown classes \['cat'\]"):
        custom_classes(['circle'], {'remove': ['cat']})
