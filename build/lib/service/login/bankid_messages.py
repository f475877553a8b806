"""BankID user messages (RFA codes) in Swedish and English, and which one to show.

The mapping follows the BankID RP guidelines as the national reference IdP applies
them; an unknown hintCode falls back to a generic message. Pure.
"""

from __future__ import annotations

RFA: dict[str, dict[str, str]] = {
    "RFA1": {"sv": "Starta BankID-appen.", "en": "Start your BankID app."},
    "RFA3": {"sv": "Åtgärden avbruten. Försök igen.",
             "en": "Action cancelled. Please try again."},
    "RFA4": {"sv": "En identifiering eller underskrift för det här personnumret är redan"
                   " påbörjad. Försök igen.",
             "en": "An identification or signing for this personal number is already"
                   " started. Please try again."},
    "RFA5": {"sv": "Internt tekniskt fel. Försök igen.",
             "en": "Internal error. Please try again."},
    "RFA6": {"sv": "Åtgärden avbruten.", "en": "Action cancelled."},
    "RFA8": {"sv": "BankID-appen svarar inte. Kontrollera att den är startad och att du har"
                   " internetanslutning. Om du inte har något giltigt BankID kan du skaffa"
                   " ett hos din bank. Försök sedan igen.",
             "en": "The BankID app is not responding. Please check that it's started and"
                   " that you have internet access. If you don't have a valid BankID you"
                   " can get one from your bank. Try again."},
    "RFA9": {"sv": "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller"
                   " Skriv under.",
             "en": "Enter your security code in the BankID app and select Identify or Sign."},
    "RFA13": {"sv": "Försöker starta BankID-appen.", "en": "Trying to start your BankID app."},
    "RFA16": {"sv": "Det BankID du försöker använda är för gammalt eller spärrat. Använd ett"
                    " annat BankID eller skaffa ett nytt hos din bank.",
              "en": "The BankID you are trying to use is blocked or too old. Please use"
                    " another BankID or get a new one from your bank."},
    "RFA17A": {"sv": "BankID-appen verkar inte finnas i din dator eller mobil. Installera den"
                     " och skaffa ett BankID hos din bank. Installera appen från din"
                     " appbutik eller https://install.bankid.com.",
               "en": "The BankID app couldn't be found on your computer or mobile device."
                     " Please install it and get a BankID from your bank. Install the app"
                     " from your app store or https://install.bankid.com."},
    "RFA17B": {"sv": "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av"
                     " QR-koden. Kontrollera att BankID-appen är uppdaterad. Om du inte har"
                     " BankID-appen måste du installera den och skaffa ett BankID hos din"
                     " bank. Installera appen från din appbutik eller"
                     " https://install.bankid.com.",
               "en": "Failed to scan the QR code. Start the BankID app and scan the QR code."
                     " Check that the BankID app is up to date. If you don't have the"
                     " BankID app, you need to install it and get a BankID from your bank."
                     " Install the app from your app store or https://install.bankid.com."},
    "RFA21": {"sv": "Identifiering eller underskrift pågår.",
              "en": "Identification or signing in progress."},
    "RFA22": {"sv": "Okänt fel. Försök igen.", "en": "Unknown error. Please try again."},
    "RFA23": {"sv": "Fotografera och läs av din ID-handling med BankID-appen.",
              "en": "Process your machine-readable travel document using the BankID app."},
    "CALL_CONFIRM": {"sv": "Följ instruktionerna i BankID-appen.",
                     "en": "Follow the instructions in the BankID app."},
    "APP_UPDATE": {"sv": "Din BankID-app behöver uppdateras. Uppdatera den från din"
                         " appbutik och försök igen.",
                   "en": "Your BankID app needs to be updated. Update it from your app"
                         " store and try again."},
    "RISK_BLOCKED": {"sv": "BankID stoppade åtgärden av säkerhetsskäl. Försök igen senare"
                           " eller kontakta din bank.",
                     "en": "BankID stopped the action for security reasons. Try again later"
                           " or contact your bank."},
    "SCAN_QR": {"sv": "Starta BankID-appen i din mobil och tryck på Skanna QR-kod. Rikta"
                      " kameran mot QR-koden här nedanför.",
                "en": "Start the BankID app on your phone and tap the QR symbol. Point the"
                      " camera at the QR code below."},
}

# Every hint code of the RP API v6; an unknown one gets the generic message of its status
# (RFA21 pending, RFA22 failed).
_PENDING = {"noClient": "RFA1", "userSign": "RFA9", "userMrtd": "RFA23", "started": "RFA21",
            "userCallConfirm": "CALL_CONFIRM"}
_FAILED = {"cancelled": "RFA3", "userCancel": "RFA6", "expiredTransaction": "RFA8",
           "certificateErr": "RFA16", "userDeclinedCall": "RFA6",
           "notSupportedByUserApp": "APP_UPDATE", "transactionRiskBlocked": "RISK_BLOCKED"}
_ERRORS = {"alreadyInProgress": "RFA4", "internalError": "RFA5", "maintenance": "RFA5",
           "requestTimeout": "RFA5", "unreachable": "RFA5"}


# The codes that may name a metric series; anything else is counted as "other".
KNOWN_CODES = frozenset({*_PENDING, *_FAILED, *_ERRORS, "outstandingTransaction",
                         "startFailed"})


def metric_code(code: str) -> str:
    """A BankID hint or error code as a metric label: known codes as they are, any other
    as ``other`` (labels must come from a fixed set)."""
    return code if code in KNOWN_CODES else "other"


def code_for(status: str, hint: str, *, qr: bool) -> str:
    """The message code for a /collect answer (status, hintCode)."""
    if status == "pending":
        if hint == "outstandingTransaction":
            return "SCAN_QR" if qr else "RFA13"
        return _PENDING.get(hint, "RFA21")
    if status == "failed":
        if hint == "startFailed":
            return "RFA17B" if qr else "RFA17A"
        return _FAILED.get(hint, "RFA22")
    return "RFA22"


def code_for_error(error_code: str) -> str:
    """The message code for an RP API error (``errorCode``), or for BankID not answering
    (``unreachable``, an HTTP 5xx without a body): "try again" (RFA5)."""
    if error_code.startswith("http5"):
        return "RFA5"
    return _ERRORS.get(error_code, "RFA22")


def message(code: str, locale: str) -> str:
    texts = RFA.get(code, RFA["RFA22"])
    return texts.get(locale, texts["en"])
