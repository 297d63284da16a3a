"""A1 arithmetic, the one place every layer takes it from."""

from planvalidator.a1 import address, column_letter, column_number, first_cell


def test_column_letters_and_numbers():
    pairs = [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (53, "BA"), (200, "GR"), (702, "ZZ"),
             (703, "AAA"), (16384, "XFD")]
    assert [column_letter(n) for n, _ in pairs] == [letters for _, letters in pairs]
    assert [column_number(letters) for _, letters in pairs] == [n for n, _ in pairs]


def test_column_number_reads_the_leading_letters_of_a_reference():
    assert [column_number(ref) for ref in ("M6", "aa10", "", "$A$1", "7:7")] == [13, 27, 0, 0, 0]


def test_address():
    assert [address(1, 1), address(6, 13), address(20000, 200)] == ["A1", "M6", "GR20000"]


def test_first_cell():
    refs = ["M6", "$B$2", "b2", "C3:D9", "$D$7:$E$9", "XFD1048576",
            "", "7:7", "A:A", "A0", "XFE1", "A1048577", "Measures!A1", "ABCD1"]
    assert [first_cell(r) for r in refs] == [
        (6, 13), (2, 2), (2, 2), (3, 3), (7, 4), (1048576, 16384),
        None, None, None, None, None, None, None, None]
