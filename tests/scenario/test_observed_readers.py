"""Report readers: Google Ads (UI download and API form), GA4 exports, the header matcher, numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.scenario.observed import read_report
from simulator.scenario.observed.headers import match_headers, normalise, parse_number

D = dt.date

# Written for this project in the layout of a Google Ads UI download (title, date range, totals rows).
ADS_UI = """Campaign report
"May 6, 2024 - May 7, 2024"
Day,Campaign,Currency code,Impr.,Clicks,Cost,Conversions
"Mon, May 6, 2024",Brand | Search,EUR,"1,197",156,€57.24,2.00
"Mon, May 6, 2024",Generic | Search,EUR,"5,702","1,216","€1,251.88",--
2024-05-07,Brand | Search,EUR,--,0,€0.00,--
Total: Account,--,EUR,"6,899","1,372","€1,309.12",2.00
"""

ADS_API = """segments.date,campaign.name,metrics.impressions,metrics.clicks,metrics.cost_micros
2024-05-06,brand-search,1197,156,57240000
2024-05-06,brand-search,3,1,10000
"""

GA4 = """# ----------------------------------------
# Traffic acquisition: Session source / medium
# Property: Example
# ----------------------------------------
#
# Start date: 20240506
# End date: 20240507
Date,Session source / medium,Session campaign,Sessions,Engaged sessions,Views,Key events,Total users
20240506,google / cpc,brand-search,96,59,314,2,96
20240506,google / organic,(organic),"1,118",72,"1,375",4,94
20240506,bing / cpc,brand-search,4,1,6,0,4
20240507,google / cpc,brand-search,10,5,20,1,10

# ----------------------------------------
# Sessions by Session campaign
# ----------------------------------------
Session campaign,Sessions,Views
brand-search,110,340
Grand total,"1,228","1,715"
"""


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _rows(report):
    return {(r.metric, r.day, r.campaign): r.value for r in report.rows}


def test_google_ads_ui_download(tmp_path):
    report = read_report(_write(tmp_path, "ads.csv", ADS_UI), "google_ads")
    assert _rows(report) == {
        ("impressions", D(2024, 5, 6), "Brand | Search"): 1197.0,
        ("clicks", D(2024, 5, 6), "Brand | Search"): 156.0,
        ("cost", D(2024, 5, 6), "Brand | Search"): 57.24,
        ("impressions", D(2024, 5, 6), "Generic | Search"): 5702.0,
        ("clicks", D(2024, 5, 6), "Generic | Search"): 1216.0,
        ("cost", D(2024, 5, 6), "Generic | Search"): 1251.88,
        ("clicks", D(2024, 5, 7), "Brand | Search"): 0.0,
        ("cost", D(2024, 5, 7), "Brand | Search"): 0.0,
    }
    assert {r.system for r in report.rows} == {"ads"}
    text = "\n".join(report.notices)
    assert "ads.csv:7: totals row 'Total: Account' skipped" in text
    assert "column 'Currency code' is not used" in text
    assert "'Conversions' is read but not compared" in text


def test_google_ads_utf16_excel_download(tmp_path):
    """The "CSV (Excel)" download is UTF-16; the reader falls back to it."""
    report = read_report(_write(tmp_path, "ads.csv", ADS_UI, "utf-16"), "google_ads")
    assert _rows(report)[("clicks", D(2024, 5, 6), "Generic | Search")] == 1216.0


def test_google_ads_api_form_sums_repeats_and_converts_micros(tmp_path):
    report = read_report(_write(tmp_path, "api.csv", ADS_API), "google_ads")
    assert _rows(report) == {
        ("impressions", D(2024, 5, 6), "brand-search"): 1200.0,
        ("clicks", D(2024, 5, 6), "brand-search"): 157.0,
        ("cost", D(2024, 5, 6), "brand-search"): 57.25,
    }


def test_bad_number_names_file_line_and_column(tmp_path):
    text = ADS_UI.replace("156,€57.24", "15x6,€57.24")
    with pytest.raises(ScenarioError) as err:
        read_report(_write(tmp_path, "ads.csv", text), "google_ads")
    message = str(err.value)
    assert "ads.csv" in message
    assert "line 4, column 'Clicks'" in message
    assert "'15x6'" in message


def test_bad_day_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"line 2, column 'segments.date'.*'May the 6th'"):
        read_report(
            _write(tmp_path, "api.csv", ADS_API.replace("2024-05-06,brand-search,1197", "May the 6th,b,1")),
            "google_ads",
        )


def test_ga4_export_with_comments_and_two_tables(tmp_path):
    report = read_report(_write(tmp_path, "ga4.csv", GA4), "ga4_report")
    rows = _rows(report)
    assert rows[("sessions", D(2024, 5, 6), "brand-search")] == 100.0  # google/cpc + bing/cpc summed
    assert rows[("views", D(2024, 5, 6), "brand-search")] == 320.0
    assert rows[("sessions", D(2024, 5, 6), "(organic)")] == 1118.0
    assert rows[("conversions", D(2024, 5, 7), "brand-search")] == 1.0
    assert rows[("sessions", None, "brand-search")] == 110.0  # the second table: per campaign
    assert ("sessions", None, "Grand total") not in rows  # the totals row is not a campaign
    assert not any(m == "users" for m, _, _ in rows)  # users do not add up over source/medium rows
    assert {r.system for r in report.rows} == {"analytics"}
    text = "\n".join(report.notices)
    assert "'Total users' is not compared" in text
    assert "column 'Engaged sessions' is not used" in text


def test_ga4_table_without_metrics_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match=r"ga4.csv: line 2: no Sessions"):
        read_report(_write(tmp_path, "ga4.csv", "# x\nDate,Country\n20240506,DE\n"), "ga4_report")


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="unknown report format 'bing'"):
        read_report(tmp_path / "x.csv", "bing")
    with pytest.raises(ScenarioError, match="cannot read the report"):
        read_report(tmp_path / "missing.csv", "google_ads")


def test_header_matcher_folds_case_spacing_dashes_and_names_unknown_columns():
    known = {"sessions": ("Sessions - Total", "Sitzungen"), "day": ("Date",)}
    cols, notices = match_headers(["  SESSIONS \u2013  total", "DATE", "Colour"], known, "f.csv", 3)
    assert cols == {"sessions": 0, "day": 1}
    assert notices == ["f.csv:3: column 'Colour' is not used"]
    assert match_headers(["Sitzungen"], known, "f.csv", 1)[0] == {"sessions": 0}
    assert normalise("Page Views \u2014 Total") == "page views - total"
    with pytest.raises(ScenarioError, match="both mean 'sessions'"):
        match_headers(["Sessions", "Sitzungen"], known, "f.csv", 1)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1,234", 1234.0),
        ("12,345,678", 12345678.0),
        ("€1,234.50", 1234.5),
        ("$0.07", 0.07),
        ("USD 12.00", 12.0),
        ("1.234,56", 1234.56),
        ("12,5", 12.5),
        ("4.5%", 4.5),
        ("(3.00)", -3.0),
        ("--", None),
        ("", None),
    ],
)
def test_parse_number(cell, value):
    assert parse_number(cell, "f.csv", 1, "c") == value


def test_parse_number_rejects_text_and_infinity():
    for cell in ("abc", "inf", "1,2,3"):
        with pytest.raises(ScenarioError, match="line 9, column 'Cost'"):
            parse_number(cell, "f.csv", 9, "Cost")


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", "€", "$", "£"]))
def test_parse_number_matches_plain_formatting(n, symbol):
    """Against the plain reference: Python's own thousands formatting."""
    assert parse_number(f"{symbol}{n:,}", "f", 1, "c") == float(n)
    assert parse_number(f"{symbol}{n / 100:,.2f}", "f", 1, "c") == pytest.approx(n / 100, rel=1e-12)


# Written for this project in the layout of a Microsoft Advertising download (settings lines, footer).
MICROSOFT = """"Report Name: Campaign performance"
"Report Time: 5/6/2024 - 5/7/2024"
"Time Zone: (GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
"Last Completed Available Day: 5/8/2024 3:00:00 AM (GMT+01:00)"
"Report Aggregation: Daily"
"Report Filter: "
"Potential Incomplete Data: false"
"Rows: 2"

"Gregorian date","Campaign name","Campaign ID","Impressions","Clicks","Spend","Conversions"
"5/6/2024","Brand | Search","123","1,020","88","45.10","3"
"5/7/2024","Brand | Search","123","990","--","40.00","1"
"Total","","","2,010","88","85.10","4"
"©2024 Microsoft Corporation. All rights reserved. "
"""

META = (
    "Reporting starts,Reporting ends,Day,Campaign name,Impressions,Link clicks,Clicks (all),"
    "Amount spent (EUR)\n"
    """2024-05-06,2024-05-07,2024-05-06,Spring | Prospecting,"12,400",310,402,98.12
2024-05-06,2024-05-07,2024-05-07,Spring | Prospecting,"11,950",,380,95.00
"""
)


def test_microsoft_ads_download(tmp_path):
    report = read_report(_write(tmp_path, "msads.csv", MICROSOFT), "microsoft_ads")
    assert _rows(report) == {
        ("impressions", D(2024, 5, 6), "Brand | Search"): 1020.0,
        ("clicks", D(2024, 5, 6), "Brand | Search"): 88.0,
        ("cost", D(2024, 5, 6), "Brand | Search"): 45.10,
        ("impressions", D(2024, 5, 7), "Brand | Search"): 990.0,
        ("cost", D(2024, 5, 7), "Brand | Search"): 40.0,
    }
    text = "\n".join(report.notices)
    assert "msads.csv:13: totals row 'Total' skipped" in text
    assert "column 'Campaign ID' is not used" in text


def test_meta_ads_export_uses_day_and_link_clicks(tmp_path):
    report = read_report(_write(tmp_path, "meta.csv", META), "meta_ads")
    assert _rows(report) == {
        ("impressions", D(2024, 5, 6), "Spring | Prospecting"): 12400.0,
        ("clicks", D(2024, 5, 6), "Spring | Prospecting"): 310.0,
        ("cost", D(2024, 5, 6), "Spring | Prospecting"): 98.12,
        ("impressions", D(2024, 5, 7), "Spring | Prospecting"): 11950.0,
        ("cost", D(2024, 5, 7), "Spring | Prospecting"): 95.0,
    }
    notices = "\n".join(report.notices)
    assert "'Clicks (all)' is not used" in notices
    assert "'Reporting starts' is not used" in notices


def test_meta_ads_export_without_day_breakdown_is_refused(tmp_path):
    text = "Reporting starts,Reporting ends,Campaign name,Impressions\n2024-05-06,2024-05-12,A,100\n"
    with pytest.raises(ScenarioError, match=r"line 2: the row covers 2024-05-06 to 2024-05-12"):
        read_report(_write(tmp_path, "meta.csv", text), "meta_ads")
    one_day = "Reporting starts,Reporting ends,Campaign name,Impressions\n2024-05-06,2024-05-06,A,100\n"
    assert _rows(read_report(_write(tmp_path, "m.csv", one_day), "meta_ads")) == {
        ("impressions", D(2024, 5, 6), "A"): 100.0
    }


# Written for this project in the layouts of Seller Central's Detail Page Sales and Traffic reports.
AMAZON_BY_DATE = (
    "Date,Ordered Product Sales,Ordered Product Sales - B2B,Units Ordered,Units Ordered - B2B,"
    "Page Views - Total,Page Views - Total - B2B,Sessions - Total,Sessions - Total - B2B,"
    "Unit Session Percentage,Unit Session Percentage - B2B\n"
    '5/6/2024,"$1,234.56",$99.00,41,3,"1,310",40,"1,022",31,4.01%,9.68%\n'
    "5/7/2024,$0.00,$0.00,0,0,12,0,10,0,0.00%,0.00%\n"
)
AMAZON_BY_ITEM = (
    "(Parent) ASIN,(Child) ASIN,Title,SKU,Sessions \u2013 Total,Page Views \u2013 Total,Units Ordered,"
    "Ordered Product Sales\n"
    'B0PARENT01,B0CHILD001,"Raincoat, yellow",RC-Y-M,"1,000",1500,12,$240.00\n'
    "B0PARENT01,B0CHILD002,Raincoat blue,RC-B-M,22,30,--,$0.00\n"
)
SPONSORED = (
    "Date,Campaign Name,Impressions,Clicks,Spend,7 Day Total Sales,14 Day Total Sales,Currency\n"
    '2024-05-06,SP | Raincoats,"10,200",95,$61.75,$310.00,$355.00,USD\n'
)


def test_amazon_business_report_by_date(tmp_path):
    report = read_report(_write(tmp_path, "br.csv", AMAZON_BY_DATE), "amazon_business")
    assert _rows(report) == {
        ("value", D(2024, 5, 6), None): 1234.56,
        ("units", D(2024, 5, 6), None): 41.0,
        ("views", D(2024, 5, 6), None): 1310.0,
        ("sessions", D(2024, 5, 6), None): 1022.0,
        ("value", D(2024, 5, 7), None): 0.0,
        ("units", D(2024, 5, 7), None): 0.0,
        ("views", D(2024, 5, 7), None): 12.0,
        ("sessions", D(2024, 5, 7), None): 10.0,
    }
    assert {r.system for r in report.rows} == {"amazon"}
    text = "\n".join(report.notices)
    assert "'Sessions - Total - B2B' is not used (a B2B subset or a ratio)" in text
    assert "'Unit Session Percentage' is not used (a B2B subset or a ratio)" in text


def test_amazon_business_report_by_child_item_with_en_dashes(tmp_path):
    report = read_report(_write(tmp_path, "asin.csv", AMAZON_BY_ITEM), "amazon_business")
    assert _rows(report) == {
        ("sessions", None, None): 1022.0,
        ("views", None, None): 1530.0,
        ("units", None, None): 12.0,
        ("value", None, None): 240.0,
    }
    assert any("'Title' is not used" in n for n in report.notices)


def test_amazon_sponsored_products_report(tmp_path):
    report = read_report(_write(tmp_path, "sp.csv", SPONSORED), "amazon_sponsored_products")
    assert _rows(report) == {
        ("impressions", D(2024, 5, 6), "SP | Raincoats"): 10200.0,
        ("clicks", D(2024, 5, 6), "SP | Raincoats"): 95.0,
        ("cost", D(2024, 5, 6), "SP | Raincoats"): 61.75,
        ("sales_7d", D(2024, 5, 6), "SP | Raincoats"): 310.0,
        ("sales_14d", D(2024, 5, 6), "SP | Raincoats"): 355.0,
    }
