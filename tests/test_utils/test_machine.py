"""cpu_name: the Linux model name, else platform's processor / machine."""
import platform

from ovd_ext.utils.machine import cpu_name


def test_cpu_name_from_cpuinfo(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nmodel name\t: Test CPU @ 2.00GHz\n'
                    'model name\t: other\n')
    assert cpu_name(str(info)) == 'Test CPU @ 2.00GHz'


def test_cpu_name_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(platform, 'processor', lambda: '')
    monkeypatch.setattr(platform, 'machine', lambda: 'x86_64')
    assert cpu_name(str(tmp_path / 'missing')) == 'x86_64'
    (tmp_path / 'arm').write_text('processor\t: 0\nBogoMIPS\t: 50\n')
    assert cpu_name(str(tmp_path / 'arm')) == 'x86_64'
