"""Each metric's weekly value checked against a hand calculation on small frames."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from helpers import load_rows_directly, query, sitrep_row, week_of_rows

from pipelines.catalogue.metrics import METRIC_IDS
from pipelines.queries.weekly import system_weekly

MONDAY = date(2024, 4, 1)
SUNDAY = date(2024, 4, 7)


def weekly(db, org_code: str, metric: str, week_ending: date = SUNDAY) -> dict:
    rows = query(db, "SELECT value, status, previous_value, change_direction, days_with_data, ambition "
                     "FROM weekly_position WHERE org_code = ? AND metric = ? AND week_ending = ?",
                 [org_code, metric, week_ending])
    assert len(rows) == 1, rows
    names = ["value", "status", "previous_value", "change_direction", "days_with_data", "ambition"]
    return dict(zip(names, rows[0], strict=True))


@pytest.fixture
def two_day_week(db):
    """RCD: Monday 90 of 100 beds occupied, Tuesday 50 of 50, with different LoS and NCTR figures."""
    load_rows_directly(db, [
        sitrep_row(period_date="2024-04-01", ga_beds_open=100, ga_beds_occupied=90, covid_beds_occupied=9,
                   los_7plus=45, los_14plus=27, los_21plus=18, nctr_patients=20, nctr_discharged=4,
                   nctr_discharged_by_5pm=1, discharges_p0=10, discharges_p1=5, discharges_p2=3, discharges_p3=2,
                   trust_opel=2, la_opel=4, drd_discharges=20, drd_delay_0=15, drd_delay_1=2, drd_delay_2_3=1,
                   drd_delay_4_6=1, drd_delay_7_13=0, drd_delay_14_20=0, drd_delay_21plus=1, drd_delay_days=40,
                   past_drd_21plus=3, internal_delay_48h_plus=2),
        sitrep_row(period_date="2024-04-02", ga_beds_open=50, ga_beds_occupied=50, covid_beds_occupied=1,
                   los_7plus=5, los_14plus=3, los_21plus=2, nctr_patients=10, nctr_discharged=5,
                   nctr_discharged_by_5pm=5, discharges_p0=20, discharges_p1=0, discharges_p2=0, discharges_p3=0,
                   trust_opel=3, la_opel=None, drd_discharges=10, drd_delay_0=9, drd_delay_1=1, drd_delay_2_3=0,
                   drd_delay_4_6=0, drd_delay_7_13=0, drd_delay_14_20=0, drd_delay_21plus=0, drd_delay_days=1,
                   past_drd_21plus=1, internal_delay_48h_plus=0),
    ])
    return db


@pytest.mark.parametrize("metric, expected", [
    # ratio of weekly sums, not the average of daily ratios (which would be 95.0 here)
    ("ga_occupancy_pct", 100 * 140 / 150),
    ("covid_occupancy_pct", 100 * 10 / 140),
    ("stranded_7plus_pct", 100 * 50 / 140),
    ("stranded_14plus_pct", 100 * 30 / 140),
    ("super_stranded_21plus_pct", 100 * 20 / 140),
    ("nctr_pct_of_occupied", 100 * 30 / 140),
    ("ctr_discharged_pct", 100 * 9 / 30),
    ("ctr_discharged_by_5pm_pct", 100 * 6 / 30),
    ("recorded_delays", ((20 - 4) + (10 - 5)) / 2),
    ("pathway_0_1_pct", 100 * 35 / 40),
    ("pathway_0_pct", 100 * 30 / 40),
    ("pathway_1_pct", 100 * 5 / 40),
    ("pathway_2_pct", 100 * 3 / 40),
    ("pathway_3_pct", 100 * 2 / 40),
    ("trust_opel_max", 3),
    ("la_opel_max", 4),
    # discharge ready dates: 30 discharges with a DRD, 24 of them on it, 41 days of delay among the other 6
    ("discharged_on_drd_pct", 100 * 24 / 30),
    ("avg_delay_days", 41 / 30),
    ("avg_delay_days_delayed", 41 / 6),
    ("delay_21plus_pct", 100 * 1 / 30),
    ("past_drd_21plus", (3 + 1) / 2),
    ("internal_delay_48h_plus", (2 + 0) / 2),
])
def test_weekly_value_is_hand_calculation(two_day_week, metric, expected):
    assert weekly(two_day_week, "RCD", metric)["value"] == pytest.approx(expected)


def test_every_metric_of_the_domain_is_in_the_view(two_day_week):
    metrics = {r[0] for r in query(two_day_week, "SELECT DISTINCT metric FROM weekly_position")}
    assert metrics == set(METRIC_IDS)
    assert {"ga_occupancy_pct", "stranded_7plus_pct", "super_stranded_21plus_pct", "ctr_discharged_by_5pm_pct",
            "recorded_delays", "pathway_0_1_pct", "trust_opel_max", "la_opel_max"} <= metrics


def test_week_is_monday_to_sunday_labelled_by_sunday(db):
    load_rows_directly(db, [sitrep_row(period_date="2024-04-07"), sitrep_row(period_date="2024-04-08")])
    weeks = query(db, "SELECT DISTINCT week_ending FROM weekly_position ORDER BY 1")
    assert [w[0] for w in weeks] == [date(2024, 4, 7), date(2024, 4, 14)]


def test_site_rows_roll_up_to_the_trust(db):
    load_rows_directly(db, [
        sitrep_row(org_code="RCB", site_code="RCB55", ga_beds_open=600, ga_beds_occupied=570, los_7plus=200),
        sitrep_row(org_code="RCB", site_code="RCBCA", ga_beds_open=400, ga_beds_occupied=380, los_7plus=180),
    ])
    assert weekly(db, "RCB", "ga_occupancy_pct", date(2024, 4, 7))["value"] == pytest.approx(100 * 950 / 1000)
    assert weekly(db, "RCB", "stranded_7plus_pct", date(2024, 4, 7))["value"] == pytest.approx(100 * 380 / 950)
    assert weekly(db, "RCB", "ga_occupancy_pct", date(2024, 4, 7))["days_with_data"] == 1


def test_a_site_missing_a_figure_leaves_the_trust_day_unknown_not_undercounted(db):
    load_rows_directly(db, [
        sitrep_row(org_code="RCB", site_code="RCB55", covid_beds_occupied=5),
        sitrep_row(org_code="RCB", site_code="RCBCA", covid_beds_occupied=None),
    ])
    assert weekly(db, "RCB", "covid_occupancy_pct", date(2024, 4, 7))["value"] is None


@pytest.mark.parametrize("occupied, expected_status", [(92, "green"), (93, "amber"), (94, "amber"), (95, "red")])
def test_status_by_ambition_with_amber_tolerance(db, occupied, expected_status):
    # ambitions.csv: ga_occupancy_pct <= 92 with a 2 point tolerance, in force from 1 April 2023
    load_rows_directly(db, week_of_rows("RCD", MONDAY, ga_beds_open=100, ga_beds_occupied=occupied, los_7plus=30,
                                        los_14plus=20, los_21plus=10))
    assert weekly(db, "RCD", "ga_occupancy_pct")["status"] == expected_status


def test_strict_ambition_fails_exactly_on_the_threshold(db):
    # stranded_7plus_pct < 40: exactly 40% is not green
    load_rows_directly(db, week_of_rows("RCD", MONDAY, ga_beds_occupied=90, los_7plus=36))
    assert weekly(db, "RCD", "stranded_7plus_pct")["status"] == "amber"


def test_higher_is_better_ambition(db):
    # pathway_0_1_pct >= 95 with 2 points tolerance: 9 of 10 home = 90% is red
    load_rows_directly(db, week_of_rows("RCD", MONDAY, discharges_p0=6, discharges_p1=3, discharges_p2=1,
                                        discharges_p3=0))
    result = weekly(db, "RCD", "pathway_0_1_pct")
    assert (result["value"], result["status"], result["ambition"]) == (pytest.approx(90.0), "red", 95.0)


def test_metric_without_ambition_has_status_none(two_day_week):
    assert weekly(two_day_week, "RCD", "recorded_delays")["status"] == "none"
    assert weekly(two_day_week, "RCD", "recorded_delays")["ambition"] is None


def test_ambition_not_yet_in_force_gives_no_status(db):
    # the 92% occupancy ambition takes effect on 1 April 2023
    load_rows_directly(db, [sitrep_row(period_date="2023-03-01")])
    assert weekly(db, "RCD", "ga_occupancy_pct", date(2023, 3, 5))["status"] == "none"


def test_previous_value_and_direction_of_change(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY, ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RCD", date(2024, 4, 8), ga_beds_occupied=90, los_7plus=36))
    result = weekly(db, "RCD", "stranded_7plus_pct", date(2024, 4, 14))
    assert result["previous_value"] == pytest.approx(50.0)
    assert result["value"] == pytest.approx(40.0)
    assert result["change_direction"] == "better"  # lower is better for stranded patients


def test_no_previous_value_when_the_week_before_is_missing(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY) + week_of_rows("RCD", date(2024, 4, 15)))
    assert weekly(db, "RCD", "stranded_7plus_pct", date(2024, 4, 21))["previous_value"] is None


def test_trust_without_la_opel_shows_null_not_zero(db):
    load_rows_directly(db, [sitrep_row(la_opel=None)])
    assert weekly(db, "RCD", "la_opel_max", date(2024, 4, 7))["value"] is None


def test_daily_metric_is_that_days_ratio(two_day_week):
    rows = query(two_day_week, "SELECT period_date, value FROM daily_metric "
                               "WHERE org_code = 'RCD' AND metric = 'ga_occupancy_pct' ORDER BY 1")
    assert [(d.isoformat(), v) for d, v in rows] == [("2024-04-01", pytest.approx(90.0)),
                                                     ("2024-04-02", pytest.approx(100.0))]


def test_system_figure_is_a_ratio_of_sums_across_trusts(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY, ga_beds_open=100, ga_beds_occupied=90, los_7plus=45)
                       + week_of_rows("RTR", MONDAY, ga_beds_open=300, ga_beds_occupied=300, los_7plus=90,
                                      nctr_patients=25, nctr_discharged=5))
    with duckdb.connect(str(db), read_only=True) as con:
        system = system_weekly(con, ("RCD", "RTR"), SUNDAY, SUNDAY)
    value = dict(zip(system["metric"], system["value"], strict=True))
    assert value["ga_occupancy_pct"] == pytest.approx(100 * 390 / 400)
    assert value["stranded_7plus_pct"] == pytest.approx(100 * 135 / 390)
    assert value["recorded_delays"] == pytest.approx((15 - 5) + (25 - 5))  # daily averages add up
    assert value["trust_opel_max"] == 2
    assert dict(zip(system["metric"], system["status"], strict=True))["ga_occupancy_pct"] == "red"


def test_system_delay_figures_are_ratios_of_sums_and_summed_daily_averages(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY, drd_discharges=10, drd_delay_0=8, drd_delay_1=2,
                                        drd_delay_21plus=0, drd_delay_days=2, past_drd_21plus=1,
                                        internal_delay_48h_plus=0)
                       + week_of_rows("RTR", MONDAY, drd_discharges=30, drd_delay_0=20, drd_delay_4_6=9,
                                      drd_delay_21plus=1, drd_delay_days=70, past_drd_21plus=4,
                                      internal_delay_48h_plus=3))
    with duckdb.connect(str(db), read_only=True) as con:
        system = system_weekly(con, ("RCD", "RTR"), SUNDAY, SUNDAY)
    value = dict(zip(system["metric"], system["value"], strict=True))
    assert value["avg_delay_days"] == pytest.approx(7 * (2 + 70) / (7 * (10 + 30)))  # not the mean of 0.2 and 2.33
    assert value["avg_delay_days_delayed"] == pytest.approx((2 + 70) / (2 + 10))
    assert value["delay_21plus_pct"] == pytest.approx(100 * 1 / 40)
    assert value["discharged_on_drd_pct"] == pytest.approx(100 * 28 / 40)
    assert value["past_drd_21plus"] == pytest.approx(1 + 4)  # daily averages add up
    assert value["internal_delay_48h_plus"] == pytest.approx(3)


def test_a_week_before_the_first_discharge_ready_date_figure_has_no_value_not_zero(db):
    load_rows_directly(db, week_of_rows("RCD", MONDAY))
    for metric in ("discharged_on_drd_pct", "avg_delay_days", "delay_21plus_pct", "past_drd_21plus"):
        result = weekly(db, "RCD", metric)
        assert (result["value"], result["days_with_data"]) == (None, 0), metric


@pytest.mark.parametrize("waiting, expected_status", [(0, "green"), (1, "red")])
def test_the_plan_asks_for_no_patient_waiting_21_days_past_their_discharge_ready_date(db, waiting, expected_status):
    june = date(2025, 6, 2)  # the plan's ambitions are in force from 1 June 2025
    load_rows_directly(db, week_of_rows("RCD", june - timedelta(days=14), past_drd_21plus=waiting)
                       + week_of_rows("RCD", june, past_drd_21plus=waiting))
    result = weekly(db, "RCD", "past_drd_21plus", date(2025, 6, 8))
    assert (result["status"], result["ambition"]) == (expected_status, 0.0)
    assert weekly(db, "RCD", "past_drd_21plus", date(2025, 5, 25))["status"] == "none"  # none before June 2025
