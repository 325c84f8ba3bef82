"""Rules of the English extractor, one short synthetic sentence per pattern."""

import pytest

from qiyue.review.extraction import extract_values


def parties(text: str) -> tuple[str | None, str | None]:
    values = extract_values(text)
    return values["party_a"], values["party_b"]


# --- parties ---------------------------------------------------------------------------


def test_a_comma_ends_the_name_unless_a_company_suffix_follows():
    text = (
        "This Agreement is made by and between Northwind Traders, Inc., dba Northwind Online, "
        'a Texas corporation ("Northwind"), and Harbor Labs, Ltd., 12 Quay Road, Leeds ("Harbor").'
    )
    assert parties(text) == ("Northwind Traders, Inc.", "Harbor Labs, Ltd.")


def test_a_bank_keeps_its_national_association_suffix():
    text = (
        'This Agreement is entered into by and between Lakeside Bank, N.A. ("Bank") and '
        'Orbit Data Corp. ("Supplier").'
    )
    assert parties(text) == ("Lakeside Bank, N.A.", "Orbit Data Corp.")


def test_a_numbered_company_and_a_brand_spelt_in_lower_case_are_names():
    text = (
        "This Reseller Agreement is between 1234567 Alberta Limited, with its office in "
        'Calgary ("Reseller"), and eZeta Systems Co., Ltd. ("Vendor").'
    )
    assert parties(text) == ("1234567 Alberta Limited", "eZeta Systems Co., Ltd.")


def test_a_later_and_names_the_second_party_when_the_first_is_inside_a_description():
    text = (
        "This Supply Agreement is made between Fjord Oils GmbH & Co KG, Kaistrasse 5, "
        "Hamburg - hereinafter referred to as Fjord - and Pinecrest Foods Inc, 9 Elm Street, "
        'Boston - each also a "Party" and jointly the "Parties".'
    )
    assert parties(text) == ("Fjord Oils GmbH & Co KG", "Pinecrest Foods Inc")


def test_a_preamble_without_between_is_read_from_its_defined_terms():
    text = (
        "This Agreement sets out the terms under which Copperline Media, Inc., a Nevada "
        'corporation with an office at 10 Main Street, Reno ("Copperline"), appoints Vista '
        'Direct Marketing, LLC, an Ohio company with an office in Dayton ("Agent").'
    )
    assert parties(text) == ("Copperline Media, Inc.", "Vista Direct Marketing, LLC")


def test_a_party_given_by_its_defined_term_gets_its_full_name():
    text = (
        'Redwood Events, Inc. ("REI") will host the gala. This Sponsorship Agreement is made '
        'by and between Quarry Partners Ltd ("Sponsor"), a Utah company, and REI.'
    )
    assert parties(text) == ("Quarry Partners Ltd", "Redwood Events, Inc.")


def test_a_person_signing_for_a_company_names_the_company():
    text = (
        "This Hosting Agreement is entered into by and between Ann Lee, director of Plumtree "
        '(hereinafter "Client") and Omar Diaz, director of Webforge Studio, PLC (hereinafter '
        '"Company").'
    )
    assert parties(text) == ("Plumtree", "Webforge Studio, PLC")


def test_a_representative_is_not_the_party():
    text = (
        'Zenith Bio, Inc., with a place of business in Austin ("Zenith") and KALMAR B.V having '
        'an address in Utrecht, represented by Eva de Wit, ("Consultant") agree as follows.'
    )
    assert parties(text) == ("Zenith Bio, Inc.", "KALMAR B.V")


def test_a_description_before_the_name_is_skipped():
    text = (
        "This Agreement is entered into between professional skier, ANNA BERG, (the "
        '"ATHLETE") and SNOWPEAK GEAR, LTD. (the "COMPANY").'
    )
    assert parties(text) == ("ANNA BERG", "SNOWPEAK GEAR, LTD")


def test_without_a_preamble_the_signing_companies_are_the_parties():
    text = (
        "The undersigned agree to file the statement jointly.\n\n"
        "Dated: May 4, 2021 NORTHGATE CAPITAL LP By: /s/ Jo Park Title: Chief Financial Officer "
        "NORTHGATE MASTER FUND LTD By: Northgate Advisors LLC, its manager"
    )
    assert parties(text) == ("NORTHGATE CAPITAL LP", "NORTHGATE MASTER FUND LTD")


def test_a_regulator_defined_in_the_preamble_is_not_a_party():
    text = (
        'El Camino Holdings, a Utah corporation (the "Company"), will register the shares '
        'with the Securities and Exchange Commission (the "Commission").'
    )
    assert parties(text) == (None, None)


@pytest.mark.parametrize(
    "name", ["Corporation", "the Company", "1. The Offering. The Company", "Services Agreement"]
)
def test_role_words_headings_and_clause_numbers_are_not_party_names(name):
    from qiyue.review.extraction.english import _plausible

    assert not _plausible(name)


# --- dates -------------------------------------------------------------------------------


def test_the_dating_word_must_stand_next_to_the_date():
    text = (
        "This Amendment to the Supply and Services Agreement dated April 1, 2017 between "
        "Alpha Corp. and Beta Inc. is made this 22 day of June 2018."
    )
    assert extract_values(text)["signing_date"] == "2018-06-22"


def test_a_date_that_only_starts_the_term_is_the_effective_date_not_the_signing_date():
    text = (
        'This Reseller Agreement is entered into by and between Alpha Corp. ("Alpha") and '
        'Beta Inc. ("Beta"). This Agreement is effective as of March 1, 2021 and shall '
        "terminate on February 28, 2024."
    )
    values = extract_values(text)
    assert values["signing_date"] is None
    assert values["effective_date"] == "2021-03-01"


def test_a_commencement_date_label_does_not_date_the_signing():
    text = (
        "MAINTENANCE ADDENDUM\nCommencement Date for maintenance under this Addendum: May 1, 2020\n"
    )
    assert extract_values(text)["signing_date"] is None


def test_made_and_entered_into_effective_as_of_dates_both():
    text = (
        "This Agreement is made and entered into effective as of June 5, 2019 by and between "
        'Alpha Corp. ("Alpha") and Beta Inc. ("Beta").'
    )
    values = extract_values(text)
    assert values["signing_date"] == "2019-06-05"
    assert values["effective_date"] == "2019-06-05"


def test_an_agreement_dated_by_its_last_signature_is_undated_when_the_signatures_are_blank():
    text = (
        "This Agreement is effective as of the date last signed below by Alpha Corp. and "
        "Beta Inc. Alpha renews its licence on March 1, 2019.\n\n"
        "IN WITNESS WHEREOF the parties sign below.\nAlpha Corp.\nDate: ________\n"
        "Beta Inc.\nDate: ________\n"
    )
    assert extract_values(text)["signing_date"] is None


def test_an_agreement_dated_by_its_last_signature_takes_the_later_signature_date():
    text = (
        "This Agreement is made as of the later of the two signature dates below by Alpha "
        "Corp. and Beta Inc.\n\nIN WITNESS WHEREOF the parties sign below.\n"
        "Alpha Corp.\nDate: May 2, 2021\nBeta Inc.\nDate: May 9, 2021\n"
    )
    assert extract_values(text)["signing_date"] == "2021-05-09"


def test_a_term_written_as_a_range_ends_on_its_second_date():
    text = "Project term: twelve weeks from February 2, 2021 to April 27, 2021."
    assert extract_values(text)["expiration_date"] == "2021-04-27"


def test_a_period_inside_the_term_is_not_the_term():
    text = (
        "During the period beginning May 1, 2020 and ending June 30, 2020 the Agreement "
        "grants the sponsor exclusivity."
    )
    assert extract_values(text)["expiration_date"] is None


def test_a_term_ending_on_an_anniversary_counts_from_the_effective_date():
    text = (
        'This Agreement is effective as of March 5, 2020 (the "Effective Date"). This '
        "Agreement will terminate on the third anniversary of the Effective Date."
    )
    assert extract_values(text)["expiration_date"] == "2023-03-05"


# --- renewal and notice -----------------------------------------------------------------


def test_the_initial_term_is_not_the_renewal_term():
    text = (
        "This Agreement shall have a term of four (4) years from the effective date, and "
        "shall automatically renew for additional one year terms unless terminated."
    )
    assert extract_values(text)["renewal_term_months"] == 12


def test_annual_and_monthly_renewals():
    annual = "The term of this Agreement is two years with automatic annual renewals thereafter."
    monthly = "This Agreement will extend automatically for monthly periods unless cancelled."
    assert extract_values(annual)["renewal_term_months"] == 12
    assert extract_values(monthly)["renewal_term_months"] == 1


def test_a_renewal_the_parties_may_agree_later_has_no_renewal_term():
    text = "The parties may renew this Agreement for two (2) years upon mutual written agreement."
    assert extract_values(text)["renewal_term_months"] is None


def test_the_notice_in_the_renewal_sentence_is_the_notice_period():
    text = (
        "This Agreement shall automatically renew for successive terms unless a party gives "
        "written notice of termination at least one hundred eighty (180) days prior to the "
        "expiration of the then-current term. Prices may change on thirty (30) days notice."
    )
    assert extract_values(text)["notice_period_days"] == 180


def test_a_notice_some_words_before_its_duration_still_counts():
    text = (
        "The Services Term shall be automatically renewed for successive two-year terms unless "
        "written notice is given by either party to the other, indicating that party's intention "
        "not to renew, at least ninety (90) days prior to the end of the Services Term."
    )
    assert extract_values(text)["notice_period_days"] == 90


def test_a_notice_before_the_expiration_of_the_term_elsewhere_in_the_text():
    text = (
        "1. The Initial Term shall be subject to automatic successive renewal terms of three (3) "
        "years each.\n\n8. This Agreement may be terminated by either party upon written notice "
        "of termination no later than ninety (90) calendar days prior to the expiration of the "
        "relevant Term."
    )
    assert extract_values(text)["notice_period_days"] == 90


def test_an_evergreen_agreement_gives_its_notice_period():
    text = (
        "Thereafter, this Agreement shall automatically continue in effect until either party "
        "gives the other at least six (6) months prior written notice of termination."
    )
    assert extract_values(text)["notice_period_days"] == 182


def test_a_notice_of_non_renewal_without_automatic_renewal():
    text = (
        "We shall give you written notice of our election not to renew the franchise at least "
        "three (3) months prior to the expiration of the term of this Agreement."
    )
    assert extract_values(text)["notice_period_days"] == 91


def test_a_cure_period_is_not_a_notice_period():
    text = (
        "This Agreement shall automatically renew for a period of three (3) years. Either party "
        "may terminate for breach if the breach is not cured within ten days of such notice."
    )
    assert extract_values(text)["notice_period_days"] is None


def test_an_insurance_policy_notice_is_not_a_renewal_notice():
    text = (
        "All insurance policies shall require at least thirty (30) days' prior notice to the "
        "Purchaser of cancellation, non-renewal or material change of such policy."
    )
    assert extract_values(text)["notice_period_days"] is None


# --- governing law ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "law"),
    [
        (
            "This Agreement shall be governed by the laws of the United States and the State "
            "of Oregon.",
            "Oregon",
        ),
        (
            "This Agreement shall be governed by the laws in force in the Province of Manitoba.",
            "Manitoba",
        ),
        ("This Agreement shall be governed by the PRC Law.", "PRC"),
        ("This Agreement is governed by and construed in accordance with English law.", "England"),
        ("This AGREEMENT is controlled by the laws of the State of Idaho.", "State of Idaho"),
        (
            "Its validity shall be governed by the laws and judicial decisions of the State of "
            "Vermont.",
            "State of Vermont",
        ),
    ],
)
def test_governing_law_forms(sentence, law):
    assert extract_values(sentence)["governing_law"] == law


def test_a_choice_of_law_clause_wins_over_applicable_laws_elsewhere():
    text = (
        "The Company will comply with all applicable laws and rules and regulations of the "
        "Stock Exchange.\n\n12. Governing Law. This Agreement shall be governed by the laws of "
        "the State of Maine."
    )
    assert extract_values(text)["governing_law"] == "State of Maine"
