"""Address and phone keys: every spelling of one place gives one key, different places
give different keys, and the Spark and Python versions agree on every example."""

from __future__ import annotations

import pytest

from features.normalize import normalize_address, normalize_phone, normalized_address, normalized_phone

# Expected key -> the ways employers type that place.
ADDRESSES_BY_PLACE: dict[str, tuple[str, ...]] = {
    "서울강남구테헤란로123": (
        "서울 강남구 테헤란로 123 4층",
        "서울특별시 강남구 테헤란로123, 402호",
        "서울시  강남구 테헤란로 123",
        "서울특별시 강남구 테헤란로 123, 2층 201호 (역삼동)",
        "(06234) 서울특별시 강남구 테헤란로 123 B1층",
        "서울 강남구 테헤란로 123 지하1층",
        "서울 강남구 테헤란로 123 한빛빌딩 5층",
        "서울\u3000강남구\u3000테헤란로\u3000１２３",  # full-width space and digits
        " 서울특별시강남구테헤란로 123\t(역삼동, 한빛빌딩) ",
    ),
    "서울강남구테헤란로12": ("서울 강남구 테헤란로 12", "서울특별시 강남구 테헤란로12, 3층"),
    "서울중구세종대로110": (
        "서울특별시 중구 세종대로 110",
        "서울시 중구 세종대로110 (태평로1가)",
        "서울 중구 세종대로 110, 3층 301호",
    ),
    # A station's underground shops are not the building above them.
    "서울중구세종대로지하2": ("서울특별시 중구 세종대로 지하 2", "서울 중구 세종대로 지하2 B1층"),
    "서울중구세종대로2": ("서울 중구 세종대로 2",),
    # 35 belongs to the road name 올림픽로35길; the building number is 10.
    "서울송파구올림픽로35길10": ("서울특별시 송파구 올림픽로35길 10", "서울 송파구 올림픽로 35길 10 3층"),
    "서울송파구올림픽로35길12": ("서울 송파구 올림픽로35길 12",),
    "서울마포구동교로12가길5": ("서울 마포구 동교로 12가길 5", "서울특별시 마포구 동교로12가길 5 1층"),
    "서울동대문구천호대로123-4": ("서울 동대문구 천호대로 123-4",),
    "서울동대문구천호대로123": ("서울 동대문구 천호대로 123, 101동 202호",),
    "부산연제구중앙대로1001": (
        "부산광역시 연제구 중앙대로 1001",
        "부산시 연제구 중앙대로 1001 (연산동)",
        "부산 연제구 중앙대로1001 7층",
    ),
    "부산중구중앙대로1001": ("부산광역시 중구 중앙대로 1001",),
    "대구중구중앙대로1001": ("대구광역시 중구 중앙대로 1001", "대구시 중구 중앙대로 1001"),
    "경기성남시분당구판교역로146번길20": (
        "경기도 성남시 분당구 판교역로146번길 20",
        "경기 성남시 분당구 판교역로 146번길 20, 5층",
        "경기 성남시 분당구 판교역로 146 번길 20",
    ),
    "경기성남시분당구판교역로146": ("경기도 성남시 분당구 판교역로 146",),
    "광주서구내방로111": ("광주광역시 서구 내방로 111", "광주시 서구 내방로 111", "광주 서구 내방로 111 3층"),
    # 경기 광주시 is another city than 광주광역시.
    "경기광주시행정타운로50": ("경기도 광주시 행정타운로 50", "경기 광주시 행정타운로 50 (송정동)"),
    "세종한누리대로2130": (
        "세종특별자치시 한누리대로 2130",
        "세종시 한누리대로 2130 (보람동)",
        "세종 한누리대로 2130, 1층",
    ),
    "제주제주시문연로6": ("제주특별자치도 제주시 문연로 6", "제주도 제주시 문연로 6", "제주시 문연로 6 2층"),
    "강원춘천시중앙로1": ("강원특별자치도 춘천시 중앙로 1", "강원도 춘천시 중앙로 1"),
    "전북전주시완산구효자로225": ("전북특별자치도 전주시 완산구 효자로 225", "전라북도 전주시 완산구 효자로 225"),
    "충남홍성군홍북읍충남대로21": ("충청남도 홍성군 홍북읍 충남대로 21", "충남 홍성군 홍북읍 충남대로 21 2층"),
    "경남창원시의창구중앙대로300": ("경상남도 창원시 의창구 중앙대로 300", "경남 창원시 의창구 중앙대로 300"),
    # Lot-number addresses (지번): 을지로3가 is a 법정동, not road 을지로 number 3.
    "서울중구을지로3가12-3": ("서울 중구 을지로3가 12-3 2층", "서울특별시 중구 을지로3가 12-3, 201호"),
    "서울중구을지로3가45": ("서울 중구 을지로3가 45",),
}

BLANK_ADDRESSES = (None, "", "   ", "\u3000", "()")

PHONES_BY_NUMBER: dict[str, tuple[str, ...]] = {
    "025551234": (
        "02-555-1234",
        "025551234",
        "02 555 1234",
        "+82-2-555-1234",
        "+82 (0)2-555-1234",
        "82 2 555 1234",
        "02-555-1234~6",
        "02-555-1234, 02-555-1235",
    ),
    "0315551234": ("031-555-1234", "031 555 1234 내선 12", "0082-31-555-1234"),
    "01012345678": ("010-1234-5678", "+82 10-1234-5678", "01012345678"),
    "07012345678": ("070-1234-5678",),
    "0255512346": ("02-5551-2346",),
}

# Too short (a 1588 call-centre number), too long, or no digits: not a usable node.
UNUSABLE_PHONES = (None, "", "  ", "-", "1588-1234", "555-1234", "02-555-1234-5678")


@pytest.mark.parametrize("key", ADDRESSES_BY_PLACE)
def test_every_spelling_of_a_place_gives_its_key(key):
    assert {spelling: normalize_address(spelling) for spelling in ADDRESSES_BY_PLACE[key]} == {
        spelling: key for spelling in ADDRESSES_BY_PLACE[key]
    }


def test_different_places_stay_apart():
    keys_per_place = [{normalize_address(s) for s in spellings} for spellings in ADDRESSES_BY_PLACE.values()]
    all_keys = [key for keys in keys_per_place for key in keys]
    assert len(all_keys) == len(set(all_keys)) == len(ADDRESSES_BY_PLACE)
    assert normalize_address("서울 강남구 테헤란로 123") != normalize_address("서울 강남구 테헤란로 12")
    assert normalize_address("서울 중구 세종대로 110") != normalize_address("서울 종로구 세종대로 110")
    assert normalize_address("서울 중구 세종대로 110") != normalize_address("부산 중구 세종대로 110")
    # Look-alikes of a 시도 spelling: 경기 광주시 typed without 경기, and the road 세종대로.
    assert normalize_address("광주시 행정타운로 50") == "광주시행정타운로50"
    assert normalize_address("세종대로 110") == "세종대로110"


@pytest.mark.parametrize("blank", BLANK_ADDRESSES)
def test_null_or_blank_address_has_no_key(blank):
    assert normalize_address(blank) is None


@pytest.mark.parametrize("number", PHONES_BY_NUMBER)
def test_every_way_of_typing_a_phone_gives_its_digits(number):
    assert {typed: normalize_phone(typed) for typed in PHONES_BY_NUMBER[number]} == {
        typed: number for typed in PHONES_BY_NUMBER[number]
    }


@pytest.mark.parametrize("typed", UNUSABLE_PHONES)
def test_unusable_phone_has_no_key(typed):
    assert normalize_phone(typed) is None


def test_spark_and_python_agree_on_every_example(spark):
    addresses = [s for spellings in ADDRESSES_BY_PLACE.values() for s in spellings] + list(BLANK_ADDRESSES)
    phones = [p for typed in PHONES_BY_NUMBER.values() for p in typed] + list(UNUSABLE_PHONES)
    examples = spark.createDataFrame(
        [(i, text, None) for i, text in enumerate(addresses)]
        + [(len(addresses) + i, None, text) for i, text in enumerate(phones)],
        "example_no int, address string, phone string",
    )
    keyed = examples.select(
        "example_no",
        normalized_address("address").alias("address_key"),
        normalized_phone(examples["phone"]).alias("phone_key"),
    ).collect()
    spark_address_keys = {row["example_no"]: row["address_key"] for row in keyed if row["example_no"] < len(addresses)}
    spark_phone_keys = {
        row["example_no"] - len(addresses): row["phone_key"] for row in keyed if row["example_no"] >= len(addresses)
    }

    assert {addresses[i]: key for i, key in spark_address_keys.items()} == {
        text: normalize_address(text) for text in addresses
    }
    assert {phones[i]: key for i, key in spark_phone_keys.items()} == {text: normalize_phone(text) for text in phones}
    assert spark_address_keys[0] == "서울강남구테헤란로123"
    assert spark_phone_keys[0] == "025551234"


# The same address in Unicode's composed form (NFC: one code point per Hangul syllable)
# and decomposed into jamo (NFD), as some systems and macOS file names deliver it.
NFD_ADDRESSES = (
    "서울특별시 강남구 테헤란로 123, 402호",
    "경기도 성남시 분당구 판교역로146번길 20",
    "Café 서울 중구 세종대로 110",
)
# 내선 (extension) cuts the number; decomposed, it is other code points.
NFD_PHONES = ("031 555 1234 내선 12",)


def test_an_nfd_address_gives_the_key_of_its_nfc_form_on_both_paths(spark):
    import unicodedata

    forms = [(text, unicodedata.normalize(form, text)) for text in NFD_ADDRESSES for form in ("NFC", "NFD")]
    assert any(nfc != other for nfc, other in forms)  # the decomposed forms are other strings
    frame = spark.createDataFrame([(i, other) for i, (_, other) in enumerate(forms)], "i int, address string")
    spark_keys = {
        row["i"]: row["key"] for row in frame.select("i", normalized_address("address").alias("key")).collect()
    }
    for i, (text, other) in enumerate(forms):
        nfc_key = normalize_address(unicodedata.normalize("NFC", text))
        assert normalize_address(other) == nfc_key, other
        assert spark_keys[i] == nfc_key, other
    assert normalize_address(unicodedata.normalize("NFD", NFD_ADDRESSES[0])) == "서울강남구테헤란로123"


def test_an_nfd_phone_gives_the_key_of_its_nfc_form_on_both_paths(spark):
    import unicodedata

    typed = [unicodedata.normalize(form, text) for text in NFD_PHONES for form in ("NFC", "NFD")]
    frame = spark.createDataFrame([(i, text) for i, text in enumerate(typed)], "i int, phone string")
    spark_keys = {row["i"]: row["key"] for row in frame.select("i", normalized_phone("phone").alias("key")).collect()}
    assert (
        [normalize_phone(text) for text in typed]
        == [spark_keys[i] for i in range(len(typed))]
        == ["0315551234", "0315551234"]
    )


# Line separators Java reads as line ends (`$` matches before a final one, `.` stops at
# them) but Python does not: the two paths must still agree, and ignore them.
LINE_SEPARATED_ADDRESSES = {
    "서울 중구 을지로3가 12-3 2층\u2028": "서울중구을지로3가12-3",
    "서울 강남구 테헤란로 123\u2029": "서울강남구테헤란로123",
    "서울 강남구\u2028테헤란로 123 4층\u0085": "서울강남구테헤란로123",
}
LINE_SEPARATED_PHONES = {"02-555-1234~\u20286": "025551234", "02-555-1234 내선\u0085 12": "025551234"}


def test_line_separators_neither_split_the_paths_nor_change_a_key(spark):
    addresses, phones = list(LINE_SEPARATED_ADDRESSES), list(LINE_SEPARATED_PHONES)
    frame = spark.createDataFrame([(i, text) for i, text in enumerate(addresses + phones)], "i int, text string")
    keyed = {
        row["i"]: (row["address_key"], row["phone_key"])
        for row in frame.select(
            "i", normalized_address("text").alias("address_key"), normalized_phone("text").alias("phone_key")
        ).collect()
    }
    assert {text: keyed[i][0] for i, text in enumerate(addresses)} == LINE_SEPARATED_ADDRESSES
    assert {text: normalize_address(text) for text in addresses} == LINE_SEPARATED_ADDRESSES
    assert {text: keyed[len(addresses) + i][1] for i, text in enumerate(phones)} == LINE_SEPARATED_PHONES
    assert {text: normalize_phone(text) for text in phones} == LINE_SEPARATED_PHONES
