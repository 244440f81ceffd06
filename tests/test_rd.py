"""BD rate on curves with known answers, averaging, range restriction and JSON."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from compression_eval import rd
from compression_eval.errors import UserError

RATES = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
QUALITY = 30 + 5 * np.log2(RATES)  # 5 dB per doubling of the rate


@pytest.mark.parametrize("factor", [0.5, 0.9, 1.25])
def test_bd_rate_of_a_rate_scaled_curve_is_the_scale(factor):
  assert rd.bd_rate((RATES, QUALITY), (RATES * factor, QUALITY)) == pytest.approx(
      100 * (factor - 1), abs=1e-6)


def test_bd_rate_of_a_quality_shift_follows_the_slope():
  # +1 dB on a 5 dB-per-doubling curve is the same quality at 2**(-1/5) of the rate.
  expected = 100 * (2**(-1 / 5) - 1)
  assert rd.bd_rate((RATES, QUALITY), (RATES, QUALITY + 1)) == pytest.approx(expected, abs=1e-6)
  assert rd.bd_rate((RATES, QUALITY + 1), (RATES, QUALITY)) > 0


def test_bd_rate_range_restriction_changes_what_is_compared():
  # The test codec is 20% cheaper below 1 bpp and 20% dearer above it.
  test_rates = np.where(RATES < 1, RATES * 0.8, RATES * 1.2)
  full = rd.bd_rate((RATES, QUALITY), (test_rates, QUALITY))
  low = rd.bd_rate((RATES, QUALITY), (test_rates, QUALITY), bpp_range=(0, 0.7))
  assert low == pytest.approx(-20.0, abs=1e-6)
  assert full > low


def test_a_shared_quality_range_compares_rows_that_start_at_different_qualities():
  # The anchor is poor at low quality only: twice the bits below 0.4 bpp.
  anchor_rates = np.where(RATES < 0.4, RATES * 2, RATES)
  early, late = (RATES * 0.9, QUALITY), (RATES[2:] * 0.8, QUALITY[2:])
  # Each over its own range, the curve that reaches the anchor's weak low qualities wins.
  assert rd.bd_rate((anchor_rates, QUALITY), early) < rd.bd_rate((anchor_rates, QUALITY), late)
  shared = rd.shared_quality_range([(anchor_rates, QUALITY), early, late])
  assert shared == pytest.approx((QUALITY[2], QUALITY[-1]))
  # Over the range both reach, the 20 % cheaper curve wins by its margin.
  assert rd.bd_rate((anchor_rates, QUALITY), early, quality_range=shared) == pytest.approx(
      -10.0, abs=1e-6)
  assert rd.bd_rate((anchor_rates, QUALITY), late, quality_range=shared) == pytest.approx(
      -20.0, abs=1e-6)
  assert rd.bd_rate(early, late, quality_range=shared) == pytest.approx(100 * (0.8 / 0.9 - 1),
                                                                        abs=1e-6)


def test_restrict_to_quality_adds_the_rates_where_the_curve_reaches_each_bound():
  x, y = rd.restrict_to_quality(RATES, QUALITY, (QUALITY[0] + 2.5, QUALITY[3] + 2.5))
  assert list(y) == [QUALITY[0] + 2.5, *QUALITY[1:4], QUALITY[3] + 2.5]
  # 2.5 dB is half a doubling on this curve: the rate is the geometric mean of the neighbours.
  assert x[0] == pytest.approx(RATES[0] * 2**0.5) and x[-1] == pytest.approx(RATES[3] * 2**0.5)
  assert list(x[1:-1]) == list(RATES[1:4])


def test_curves_that_share_no_quality_have_no_bd_rate_on_it():
  apart = rd.shared_quality_range([(RATES, QUALITY), (RATES, QUALITY + 100)])
  assert apart[0] > apart[1]
  assert math.isnan(rd.bd_rate((RATES, QUALITY), (RATES, QUALITY), quality_range=apart))
  assert all(math.isnan(bound) for bound in rd.shared_quality_range([(RATES[:1], QUALITY[:1])]))


def test_restrict_to_rate_adds_interpolated_end_points():
  x, y = rd.restrict_to_rate(RATES, QUALITY, (0.15, 1.0))
  assert x[0] == 0.15 and x[-1] == 1.0
  assert y[-1] == pytest.approx(30 + 5 * math.log2(1.0))
  assert list(x[1:-1]) == [0.2, 0.4, 0.8]


def test_bd_rate_is_nan_without_overlap_or_points():
  assert math.isnan(rd.bd_rate((RATES, QUALITY), (RATES, QUALITY + 100)))
  assert math.isnan(rd.bd_rate((RATES[:1], QUALITY[:1]), (RATES, QUALITY)))


def test_monotone_drops_dominated_points():
  x, y = rd.monotone(np.array([0.1, 0.2, 0.3, 0.4]), np.array([20.0, 25.0, 24.0, 26.0]))
  assert list(x) == [0.1, 0.2, 0.4] and list(y) == [20.0, 25.0, 26.0]


def test_average_by_setting_groups_and_keeps_order():
  records = [
      {"setting": 50, "bpp": 1.0, "psnr-rgb": 30.0},
      {"setting": 10, "bpp": 0.2, "psnr-rgb": 24.0},
      {"setting": 50, "bpp": 3.0, "psnr-rgb": 34.0},
      {"setting": 10, "bpp": 0.4, "psnr-rgb": 26.0},
  ]
  curve = rd.average_by_setting("x", "test", records)
  assert set(curve.results) == {"setting", "bpp", "psnr-rgb"}
  assert curve.results["setting"] == [50, 10]  # first-seen order, not sorted
  assert curve.results["bpp"] == pytest.approx([2.0, 0.3])  # float (0.2 + 0.4) / 2 is not 0.3
  assert curve.results["psnr-rgb"] == pytest.approx([32.0, 25.0])


def test_json_round_trip_in_compressai_layout(tmp_path):
  curve = rd.RDCurve("jpeg", "desc", {"bpp": [0.5, 1.0], "psnr-rgb": [30.0, 33.0]})
  rd.write_json(curve, tmp_path / "jpeg.json")
  data = json.loads((tmp_path / "jpeg.json").read_text())
  assert set(data) == {"name", "description", "results"}
  assert rd.read_json(tmp_path / "jpeg.json").results == curve.results
  (tmp_path / "bad.json").write_text("{not json")
  with pytest.raises(UserError, match="not a CompressAI-style"):
    rd.read_json(tmp_path / "bad.json")


def test_metric_gap_measures_distance_at_matching_rates():
  reference = rd.RDCurve("ref", "", {"bpp": list(RATES), "psnr-rgb": list(QUALITY)})
  ours = rd.RDCurve("ours", "", {"bpp": [0.3, 0.6, 5.0], "psnr-rgb": [
      30 + 5 * math.log2(0.3) + 0.2, 30 + 5 * math.log2(0.6) - 0.15, 99.0]})
  mean_gap, max_gap, count = rd.metric_gap(ours, reference, "psnr-rgb")
  assert count == 2  # 5.0 bpp lies outside the reference
  assert max_gap == pytest.approx(0.2, abs=1e-9) and mean_gap == pytest.approx(0.025, abs=1e-9)
