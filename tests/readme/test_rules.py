"""The comparison the walkthrough test relies on: strict, except where RULES say."""
from __future__ import annotations

from walkthrough import matches

LIST = "     0  oneadmin  oneadmin  web              runn   0.5     512M  node1          0d 00h00"
HOST = "   0  localhost        default       0        0 / 200 (0%)      0K / 7.3G (0%)  on"


def test_literal_lines_must_be_exact_but_for_trailing_spaces() -> None:
    assert matches(["ID: 0"], ["ID: 0   "])
    assert not matches(["ID: 0"], ["ID:  0"])
    assert not matches(["ID: 0"], ["ID: 0", "ID: 1"])


def test_elided_lines_take_any_number_of_lines() -> None:
    assert matches(["A", "...", "D"], ["A", "B", "C", "D"]) and matches(["A", "...", "D"], ["A", "D"])
    assert not matches(["A", "...", "D"], ["A", "B"])


def test_times_vary_but_the_rest_of_the_row_does_not() -> None:
    assert matches([LIST], [LIST.replace("0d 00h00", "12d 03h59")])
    assert not matches([LIST], [LIST.replace("512M", "256M")])
    assert not matches([LIST], [LIST.replace("runn", "pend")])
    assert matches(["START TIME          : 12/04 18:10:08"], ["START TIME          : 01/31 00:00:01"])


def test_a_real_hosts_capacity_varies_with_its_columns() -> None:
    assert matches([HOST], ["   0  localhost        default       0        0 / 800 (0%)     0K / 23.5G (0%)  on"])
    assert not matches([HOST], [HOST.replace("(0%)  on", "(0%)  err")])
    assert not matches(["   0  node1  default  1  50 / 800 (6%)  512M / 16G (3%)  on"],
                       ["   0  node1  default  1  50 / 800 (6%)  256M / 16G (3%)  on"])
