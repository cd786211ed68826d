"""The duplicate guards and notes: SQL over a candidate pair (``l``, ``r``) that Splink has scored.

A guard is what must hold, whatever the model weighs, for two records to be one person or one business; the
notes say to the steward how two accepted records differ. The reasoning is in ``splink_model``'s docstring.
"""

from __future__ import annotations

# The guards: what must hold, whatever the model weighs, for two records to be one person or one business.
# Each says something true of people and registers, not of one data set (see the module docstring).

# A date of birth does not change: equal, or the same year with day and month read the other way round.
SAME_BIRTH = "(l.dob = r.dob OR (l.dob_year = r.dob_year AND l.dob_md = r.dob_md))"
# The same letters: the spellings differ at most in diacritics, case, spacing or Unicode form.
SAME_LETTERS = "l.name_fold = r.name_fold"
# Close: the given name alike (same letters or one keying slip) and the family and middle names alike (same
# letters, a middle name dropped, or one slip). Middle names are compared word by word: 'Thu' is in
# 'Thị Thu', 'An' is not in 'Thanh'.
CLOSE_NAME = """
    (l.given = r.given OR damerau_levenshtein(l.given_typed, r.given_typed) <= 1)
    AND (l.family_middle = r.family_middle
         OR (l.family = r.family
             AND (l.middle = '' OR r.middle = ''
                  OR contains(' ' || l.middle || ' ', ' ' || r.middle || ' ')
                  OR contains(' ' || r.middle || ' ', ' ' || l.middle || ' ')))
         OR damerau_levenshtein(l.family_middle_typed, r.family_middle_typed) <= 1)
"""
# A person's records: born the same day, and named with the same letters, or with a close name when
# something else places them together (one home or household). Two differences at once (a name one slip
# away AND another address) are two people: at a million records there are many such pairs of strangers.
PERSON_GUARD = f"""
    {SAME_BIRTH}
    AND ({SAME_LETTERS}
         OR (({CLOSE_NAME}) AND (l.address_key = r.address_key OR l.household_id = r.household_id)))
"""
# Insurance records: the same, with the register as the second witness: a close name counts when both
# records resolve to the same citizen (or were registered in the same province); and two records linked
# (or resolved) to two different citizens are two people, unless those citizen records are one person
# (merge_by_person settles that).
INSURED_GUARD = f"""
    {SAME_BIRTH}
    AND ({SAME_LETTERS}
         OR (({CLOSE_NAME}) AND (l.person_id = r.person_id OR l.province_code = r.province_code)))
    AND (l.person_id IS NULL OR r.person_id IS NULL OR l.person_id = r.person_id)
"""
# A business: a similar core name alone is not enough (many firms in many provinces are called An Phát):
# the legal representative or the address must be the same too.
ENTERPRISE_GUARD = """
    (l.legal_rep_id = r.legal_rep_id OR l.address_key = r.address_key)
    AND jaro_winkler_similarity(l.name_core, r.name_core) >= 0.85
"""


# How two accepted records differ, for the steward: a list of short phrases (NULLs dropped).
_NAME_DIFFERENCE = """
    CASE WHEN l.name_key <> r.name_key THEN
        CASE WHEN l.name_fold = r.name_fold THEN 'name with other or missing diacritics'
             ELSE 'name spelt differently' END END
"""
_BIRTH_DIFFERENCE = "CASE WHEN l.dob <> r.dob THEN 'day and month of birth swapped' END"
# Twins given near names ('Hùng', 'Hưng') look exactly like one person re-keyed: say so, let the steward decide.
_TWINS = """
    CASE WHEN l.household_id = r.household_id AND l.dob = r.dob AND l.name_key <> r.name_key
              AND l.name_key <> l.name_fold AND r.name_key <> r.name_fold
         THEN 'possibly twins: same household and birth date, names differ in their marks' END
"""
CITIZEN_NOTES = f"""list_filter([{_NAME_DIFFERENCE}, {_BIRTH_DIFFERENCE},
    CASE WHEN l.address_key IS DISTINCT FROM r.address_key THEN 'other address' END, {_TWINS}],
    lambda x: x IS NOT NULL)"""
INSURED_NOTES = f"""list_filter([{_NAME_DIFFERENCE}, {_BIRTH_DIFFERENCE},
    CASE WHEN l.province_code IS DISTINCT FROM r.province_code THEN 'registered in another province' END],
    lambda x: x IS NOT NULL)"""
ENTERPRISE_NOTES = """list_filter([
    CASE WHEN l.name_full IS DISTINCT FROM r.name_full THEN 'name written differently' END,
    CASE WHEN l.legal_rep_id IS DISTINCT FROM r.legal_rep_id THEN 'another legal representative' END,
    CASE WHEN l.address_key IS DISTINCT FROM r.address_key THEN 'other address' END], lambda x: x IS NOT NULL)"""
