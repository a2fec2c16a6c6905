"""Why an answer was refused, in the languages ``domain.validation`` does not write itself.

``domain.validation.explain`` speaks English and Indonesian; a pack speaking Hindi, Spanish,
French, Portuguese or Arabic gets these sentences for the same codes (and ``unknown`` for a
code without one). A pack's own text for a code wins over both.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

EXPLANATIONS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "hi": {
        "message.empty": "मुझे कुछ नहीं मिला। क्या आप अपना संदेश लिख सकते हैं?",
        "message.too_long": "माफ़ कीजिए, यह संदेश बहुत लंबा है। क्या आप इसे {max} अक्षरों में लिख सकते हैं?",
        "name.too_short": "कृपया अपना नाम बताइए, कम से कम दो अक्षरों में।",
        "name.too_long": "यह नाम थोड़ा लंबा है। कृपया इसे {max} अक्षरों तक रखें।",
        "phone.invalid": "यह फ़ोन नंबर नहीं लगता। कृपया अंक भेजें, जैसे 98765 43210।",
        "phone.not_indian_mobile": "कृपया भारतीय मोबाइल नंबर भेजें: 6, 7, 8 या 9 से शुरू होने वाले दस अंक।",
        "pincode.invalid": "कृपया अपना पिनकोड भेजें: छह अंक, जैसे 400001।",
        "quantity.not_a_number": "कृपया मात्रा पूरी संख्या में भेजें, जैसे 3।",
        "quantity.not_positive": "कृपया कम से कम 1 की मात्रा भेजें।",
        "quantity.out_of_stock": "माफ़ कीजिए, यह सामान अभी स्टॉक में नहीं है।",
        "quantity.over_stock": "माफ़ कीजिए, हमारे पास केवल {stock} बचे हैं। कृपया {stock} या उससे कम चुनें।",
        "unknown": "माफ़ कीजिए, मैं इस जवाब का उपयोग नहीं कर सका। क्या आप फिर से कोशिश करेंगे?",
    },
    "es": {
        "message.empty": "No me llegó nada. ¿Puedes escribir tu mensaje?",
        "message.too_long": "Lo siento, ese mensaje es demasiado largo. ¿Puedes decirlo en {max} caracteres o menos?",
        "name.too_short": "¿Puedes decirme tu nombre, con al menos dos letras?",
        "name.too_long": "Ese nombre es un poco largo. ¿Puedes dejarlo en {max} caracteres?",
        "phone.invalid": "Eso no parece un número de teléfono. ¿Puedes enviar los dígitos, como 98765 43210?",
        "phone.not_indian_mobile": "Envía un móvil de la India: diez dígitos que empiecen por 6, 7, 8 o 9.",
        "pincode.invalid": "Envía tu código PIN: seis dígitos, como 400001.",
        "quantity.not_a_number": "Envía la cantidad como un número entero, como 3.",
        "quantity.not_positive": "Envía una cantidad de al menos 1.",
        "quantity.out_of_stock": "Lo siento, este producto está agotado ahora mismo.",
        "quantity.over_stock": "Lo siento, solo nos quedan {stock}. ¿Puedes elegir {stock} o menos?",
        "unknown": "Lo siento, no pude usar esa respuesta. ¿Lo intentas de nuevo?",
    },
    "fr": {
        "message.empty": "Je n'ai rien reçu. Pouvez-vous écrire votre message ?",
        "message.too_long": "Désolé, ce message est trop long. Pouvez-vous l'écrire en {max} caractères maximum ?",
        "name.too_short": "Pouvez-vous me donner votre nom, avec au moins deux lettres ?",
        "name.too_long": "Ce nom est un peu long. Pouvez-vous le limiter à {max} caractères ?",
        "phone.invalid": "Cela ne ressemble pas à un numéro de téléphone. Envoyez les chiffres, par exemple 98765 43210.",
        "phone.not_indian_mobile": "Envoyez un numéro de mobile indien : dix chiffres commençant par 6, 7, 8 ou 9.",
        "pincode.invalid": "Envoyez votre code PIN : six chiffres, par exemple 400001.",
        "quantity.not_a_number": "Envoyez la quantité en nombre entier, par exemple 3.",
        "quantity.not_positive": "Envoyez une quantité d'au moins 1.",
        "quantity.out_of_stock": "Désolé, cet article est en rupture de stock pour le moment.",
        "quantity.over_stock": "Désolé, il ne nous en reste que {stock}. Pouvez-vous en choisir {stock} ou moins ?",
        "unknown": "Désolé, je n'ai pas pu utiliser cette réponse. Pouvez-vous réessayer ?",
    },
    "pt": {
        "message.empty": "Não recebi nada. Pode escrever a sua mensagem?",
        "message.too_long": "Desculpe, essa mensagem é longa demais. Pode escrevê-la em até {max} caracteres?",
        "name.too_short": "Pode me dizer o seu nome, com pelo menos duas letras?",
        "name.too_long": "Esse nome está um pouco longo. Pode deixá-lo com até {max} caracteres?",
        "phone.invalid": "Isso não parece um número de telefone. Pode enviar os dígitos, como 98765 43210?",
        "phone.not_indian_mobile": "Envie um celular da Índia: dez dígitos começando por 6, 7, 8 ou 9.",
        "pincode.invalid": "Envie o seu código PIN: seis dígitos, como 400001.",
        "quantity.not_a_number": "Envie a quantidade como um número inteiro, como 3.",
        "quantity.not_positive": "Envie uma quantidade de pelo menos 1.",
        "quantity.out_of_stock": "Desculpe, este item está sem estoque no momento.",
        "quantity.over_stock": "Desculpe, só temos {stock} disponíveis. Pode escolher {stock} ou menos?",
        "unknown": "Desculpe, não consegui usar essa resposta. Pode tentar de novo?",
    },
    "ar": {
        "message.empty": "لم يصلني شيء. هل يمكنك كتابة رسالتك؟",
        "message.too_long": "عذرًا، هذه الرسالة طويلة جدًا. هل يمكنك كتابتها في {max} حرفًا أو أقل؟",
        "name.too_short": "هل يمكنك إخباري باسمك، بحرفين على الأقل؟",
        "name.too_long": "هذا الاسم طويل قليلًا. هل يمكنك جعله {max} حرفًا على الأكثر؟",
        "phone.invalid": "لا يبدو هذا رقم هاتف. هل يمكنك إرسال الأرقام، مثل 98765 43210؟",
        "phone.not_indian_mobile": "يرجى إرسال رقم جوال هندي: عشرة أرقام تبدأ بـ 6 أو 7 أو 8 أو 9.",
        "pincode.invalid": "يرجى إرسال الرمز البريدي (PIN): ستة أرقام، مثل 400001.",
        "quantity.not_a_number": "يرجى إرسال الكمية كعدد صحيح، مثل 3.",
        "quantity.not_positive": "يرجى إرسال كمية لا تقل عن 1.",
        "quantity.out_of_stock": "عذرًا، هذا المنتج غير متوفر حاليًا.",
        "quantity.over_stock": "عذرًا، لم يتبقَّ لدينا سوى {stock}. هل يمكنك اختيار {stock} أو أقل؟",
        "unknown": "عذرًا، لم أتمكن من استخدام هذه الإجابة. هل يمكنك المحاولة مرة أخرى؟",
    },
})
"""Code → sentence, for each language beyond English and Indonesian."""
