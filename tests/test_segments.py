"""SMS segment counting follows GSM-7 / UCS-2 rules."""

from bot.language.segments import count_segments, fold_to_gsm, sms_text


def test_gsm7_single_and_multi_segment():
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_gsm7_extension_characters_cost_two():
    counted = count_segments("{" * 80)
    assert counted.encoding == "GSM-7" and counted.units == 160 and counted.segments == 1
    assert count_segments("€" * 81).segments == 2


def test_ucs2_limits():
    assert count_segments("á" * 70) .segments == 1
    assert count_segments("á" * 71).segments == 2
    assert count_segments("中" * 134).segments == 2
    assert count_segments("中" * 135).segments == 3
    assert count_segments("😀" * 35).units == 70


def test_spanish_gsm_characters_stay_gsm():
    assert count_segments("¿Señor? ¡Sí! é ñ ü").encoding == "UCS-2"  # í is not GSM-7
    assert count_segments("¿Señor? ¡Si! é ñ ü").encoding == "GSM-7"


def test_fold_only_when_everything_folds():
    assert fold_to_gsm("información “ahora” — sí") == 'informacion "ahora" -- si'
    assert fold_to_gsm("中文 á") == "中文 á"
    assert fold_to_gsm("🙏 á") == "🙏 á"


def test_sms_text_folds_only_allowed_languages():
    assert sms_text("información", "es") == "informacion"
    # Vietnamese is never folded: "Đừng" (don't) must not arrive as "Dung" (review T1).
    assert sms_text("Đừng mở cửa", "vi") == "Đừng mở cửa"
    assert sms_text("信息 información", "zh") == "信息 información"
    assert sms_text("información", "ar") == "información"
