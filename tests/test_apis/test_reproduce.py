"""make reproduce: differences and mean / spread over seeds."""
from ovd_ext.apis.reproduce import _difference, _mean_spread


def test_difference_to_zoo():
    assert _difference({'AP50 novel': 46.7, 'box AP': 1.0},
                       {'AP50 novel': 49.4}, ['AP50 novel', 'box AP']) == {
        'AP50 novel': '-2.7'}


def test_mean_and_sample_spread():
    runs = [{'AP50 novel': 40.0}, {'AP50 novel': 50.0}, {'AP50 novel': 45.0}]
    assert _mean_spread(runs, ['AP50 novel', 'box AP']) == {
        'AP50 novel': '45.0 ± 5.0'}
    assert _mean_spread(runs[:1], ['AP50 novel']) == {
        'AP50 novel': '40.0 ± 0.0'}
