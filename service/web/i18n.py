"""Swedish and English texts for the pages (the BankID messages live with BankID)."""

from __future__ import annotations

from collections.abc import Iterable

LOCALES = ("sv", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    "sv": {
        "product": "Stadens e-legitimering",
        "choose_title": "Logga in",
        "choose_lead": "Logga in till {client} med",
        "method_bankid": "BankID",
        "method_bankid_other": "Mobilt BankID på annan enhet",
        "method_bankid_same": "BankID på den här enheten",
        "method_pin": "Personnummer och PIN-kod",
        "method_freja_other": "Freja eID på annan enhet",
        "method_freja_same": "Freja eID på den här enheten",
        "freja_title": "Logga in med Freja eID",
        "freja_qr_title": "QR-kod för Freja eID",
        "freja_qr_help": "Öppna Freja eID-appen och skanna QR-koden.",
        "freja_open_on_this_device": "Öppna Freja eID på den här enheten",
        "freja_STARTED": "Starta Freja eID-appen.",
        "freja_DELIVERED_TO_MOBILE": "Bekräfta inloggningen i Freja eID-appen.",
        "freja_APPROVED": "Klart. Du skickas vidare.",
        "freja_REJECTED": "Inloggningen godkändes inte. Om du har Freja eID med lägre"
                          " registreringsnivå än tjänsten kräver, uppgradera den i appen"
                          " eller välj ett annat sätt att logga in.",
        "freja_CANCELED": "Inloggningen avbröts i Freja eID-appen.",
        "freja_RP_CANCELED": "Inloggningen avbröts.",
        "freja_EXPIRED": "Tiden gick ut. Försök igen.",
        "freja_error": "Freja eID kunde inte nås just nu. Försök igen om en liten stund, eller"
                       " välj ett annat sätt att logga in.",
        "method_smartcard": "E-legitimation på kort",
        "smartcard_title": "Logga in med kort",
        "smartcard_step_insert": "Sätt i ditt kort (medborgarkort eller tjänstekort) i kortläsaren.",
        "smartcard_step_choose": "Välj Fortsätt. Webbläsaren frågar vilket certifikat du vill"
                                 " använda och ber om kortets PIN-kod.",
        "smartcard_continue": "Fortsätt med kortet",
        "card_error_title": "Kortet kunde inte användas",
        "card_no_card": "Inget kort eller certifikat visades upp.",
        "card_no_card_next": "Kontrollera att kortet sitter i läsaren och att kortläsarens"
                             " program är igång, och försök igen. Välj certifikatet för"
                             " legitimering när webbläsaren frågar.",
        "card_expired": "Certifikatet på kortet har gått ut eller gäller inte ännu.",
        "card_expired_next": "Beställ ett nytt kort från den som utfärdade det (för"
                             " tjänstekort: din chef eller IT-avdelningen). Logga in med BankID"
                             " så länge.",
        "card_revoked": "Kortet är spärrat.",
        "card_revoked_next": "Ett spärrat kort kan inte användas igen. Kontakta den som"
                             " utfärdade kortet; logga in med BankID så länge.",
        "card_untrusted": "Kortet kommer från en utfärdare som inloggningen inte litar på.",
        "card_untrusted_next": "Bara e-legitimationer på kort från godkända utfärdare kan"
                               " användas. Logga in med BankID, eller kontakta supporten.",
        "card_unreadable": "Certifikatet på kortet kunde inte läsas.",
        "card_unreadable_next": "Ta ut kortet, sätt i det igen och försök en gång till.",
        "card_no_personal_number": "Certifikatet på kortet innehåller inget personnummer.",
        "card_no_personal_number_next": "Välj certifikatet för legitimering (inte det för"
                                        " underskrift), eller logga in med BankID.",
        "card_revocation_unknown": "Det går inte att kontrollera kortets spärrstatus just nu.",
        "card_revocation_unknown_next": "Försök igen om en stund, eller logga in med BankID.",
        "err_card_proof": "Kortinloggningen gick ut innan den var klar. Gå tillbaka och"
                          " försök igen.",
        "step_up_lead": "{client} kräver en starkare inloggning. Fortsätt med BankID.",
        "context_title": "Vem företräder du?",
        "context_lead": "{client} låter dig, {person}, göra ärenden för dig själv eller för"
                        " ett företag du företräder.",
        "context_self": "Mig själv",
        "sign_in_app": "{client} ber dig skriva under. Texten visas i BankID-appen när BankID"
                       " har kontrollerat att det är du.",
        "bankid_title": "Logga in med BankID",
        "qr_title": "QR-kod för BankID",
        "qr_help": "Öppna BankID-appen och skanna QR-koden.",
        "open_on_this_device": "Öppna BankID på den här enheten",
        "check_again": "Kontrollera igen",
        "new_qr": "Ny QR-kod",
        "cancel": "Avbryt",
        "pin_title": "Logga in med PIN-kod",
        "personal_number": "Personnummer (ÅÅÅÅMMDD-NNNN)",
        "pin": "PIN-kod",
        "log_in": "Logga in",
        "pin_failed": "Fel personnummer eller PIN-kod. Efter flera felaktiga försök spärras"
                      " PIN-inloggningen en stund; BankID fungerar alltid.",
        "pin_locked": "PIN-inloggningen är spärrad efter för många felaktiga försök och"
                      " öppnas igen om {minutes} minuter. Logga in med BankID i stället, eller"
                      " ring stadens kundtjänst och uppge referensen {ref}.",
        "invalid_personal_number": "Personnumret är inte giltigt: {detail}.",
        "other_method": "Välj ett annat sätt att logga in",
        "error_title": "Något gick fel",
        "support_ref": "Ange referensen {ref} om du kontaktar supporten.",
        "err_unknown_client": "Tjänsten som skickade dig hit är okänd för inloggningen.",
        "err_bad_request": "Inloggningsförfrågan från tjänsten är felaktig: {detail}",
        "err_tx_expired": "Inloggningen har gått ut eller är redan avslutad. Gå tillbaka till"
                          " tjänsten och börja om.",
        "err_csrf": "Formuläret kunde inte kontrolleras. Ladda om sidan och försök igen.",
        "err_wrong_person": "Tjänsten bad om inloggning för en annan person än den som"
                            " legitimerade sig. Gå tillbaka till tjänsten och börja om.",
        "err_store": "Inloggningen är tillfälligt otillgänglig. Inget av det du gjort har"
                     " gått förlorat. Försök igen om en liten stund.",
        "err_bankid": "BankID kunde inte nås just nu. Försök igen om en liten stund.",
        "err_freja": "Freja eID kunde inte nås just nu. Försök igen om en liten stund, eller"
                     " välj ett annat sätt att logga in.",
        "err_not_found": "Sidan finns inte.",
        "err_too_large": "Förfrågan är för stor.",
        "err_method": "Metoden är inte tillåten för den här adressen.",
        "err_internal": "Ett oväntat fel inträffade.",
        "logged_out_title": "Du är utloggad",
        "logged_out_lead": "Du är nu utloggad från stadens e-tjänster.",
        "logout_confirm_title": "Logga ut?",
        "logout_confirm_lead": "Vill du logga ut från alla stadens e-tjänster?",
        "logout": "Logga ut",
        "switch_language": "In English",
        "self_title": "Mina inloggningar",
        "self_lead_login": "Här ser du var du är inloggad och dina senaste inloggningar, och"
                           " kan logga ut överallt. Logga in med BankID, Freja eID+ eller kort.",
        "self_lead": "Inloggad: {name}.",
        "self_sessions": "Där du är inloggad nu",
        "self_session": "sedan {since} med {method}",
        "self_this_browser": "den här webbläsaren",
        "self_no_eservice": "ingen e-tjänst än",
        "self_logout_everywhere": "Logga ut överallt",
        "self_recent": "Dina senaste inloggningar",
        "self_recent_unavailable": "Inloggningshistoriken kan inte visas just nu.",
        "self_event_login": "inloggning på",
        "self_event_step_up": "starkare inloggning på",
        "self_event_signing": "underskrift på",
        "self_event_logout": "utloggning",
        "self_event_pin_change": "PIN-koden ändrad",
        "self_failed": "misslyckades",
        "self_device": "{browser} på {os}",
        "self_device_unknown": "okänd enhet",
        "self_pin": "Din PIN-kod",
        "self_pin_state_active": "Du har en PIN-kod. Här kan du byta den; den gamla slutar"
                                 " gälla direkt.",
        "self_pin_state_pending": "Ett brev med aktiveringskod är på väg till dig. Du kan också"
                                  " välja PIN-kod här; då slutar koden i brevet att gälla.",
        "self_pin_state_revoked": "Din PIN-kod är spärrad. Du kan välja en ny här.",
        "self_pin_state_none": "Du har ingen PIN-kod. Här kan du välja en.",
        "self_pin_changed": "Din nya PIN-kod gäller från och med nu.",
        "pin_new": "Ny PIN-kod (4–12 siffror)",
        "pin_repeat": "Upprepa PIN-koden",
        "pin_save": "Spara PIN-koden",
        "pin_rule_length": "PIN-koden ska vara 4–12 siffror.",
        "pin_rule_repeated": "PIN-koden får inte vara en och samma siffra.",
        "pin_rule_run": "PIN-koden får inte vara en stege som 1234 eller 9876.",
        "pin_rule_birthdate": "PIN-koden får inte vara ditt födelsedatum.",
        "pin_rule_mismatch": "De två PIN-koderna är inte lika.",
        "activate_title": "Välj PIN-kod med aktiveringskod",
        "activate_lead": "Har du fått ett brev från staden med en aktiveringskod? Skriv in"
                         " ditt personnummer och koden, och välj din PIN-kod. Koden gäller"
                         " en gång och till datumet i brevet.",
        "activation_code": "Aktiveringskod (12 tecken, från brevet)",
        "activate_failed": "Fel personnummer eller aktiveringskod, eller så har koden gått ut"
                           " eller redan använts. Stadens kundtjänst kan skicka ett nytt brev;"
                           " ange referensen {ref}.",
        "activate_bad_code": "En aktiveringskod är 12 bokstäver och siffror, som i brevet.",
        "activate_used": "Koden användes nyss i en annan webbläsare. Har du redan valt din"
                         " PIN-kod kan du logga in med den.",
        "activate_done_title": "Din PIN-kod är klar",
        "activate_done": "Du kan nu logga in med personnummer och PIN-kod i stadens"
                         " e-tjänster. Aktiveringskoden i brevet gäller inte längre.",
        "activate_link": "Har du fått ett brev med aktiveringskod? Välj PIN-kod",
        "letter_title": "Din aktiveringskod för PIN-kod",
        "letter_ref": "brev {ref}",
        "personal_number_short": "Personnummer",
        "letter_lead": "Du kan nu välja en PIN-kod för att logga in i stadens e-tjänster med"
                       " personnummer och PIN-kod.",
        "letter_reset": "Din tidigare PIN-kod har spärrats. Välj en ny PIN-kod med koden i"
                        " det här brevet.",
        "letter_step_open": "Gå till {url}",
        "letter_step_enter": "Skriv in ditt personnummer och aktiveringskoden nedan.",
        "letter_step_choose": "Välj en PIN-kod med 4–12 siffror och skriv den två gånger.",
        "letter_code": "Din aktiveringskod:",
        "letter_expires": "Koden gäller en gång, till och med {date}. Spara inte brevet"
                          " tillsammans med din PIN-kod.",
        "letter_bankid": "Har du BankID kan du i stället välja PIN-kod under Mina"
                         " inloggningar.",
        "letter_not_you": "Har du inte bett om en PIN-kod? Ring stadens kundtjänst och uppge"
                          " brevets nummer.",
        "cancel_login": "Avbryt och gå tillbaka till e-tjänsten",
        "help_link": "Hjälp med inloggningen",
        "accessibility_link": "Tillgänglighetsredogörelse",
        "help_title": "Hjälp med inloggningen",
        "help_all": "Alla hjälpsidor",
        "help_no-bankid_title": "Jag har inget BankID",
        "help_no-bankid_body": "Du kan logga in med Freja eID+, med e-legitimation på kort"
                               " eller, till e-tjänster som tillåter det, med personnummer och"
                               " PIN-kod. BankID beställer du från din bank; Freja eID från"
                               " appbutiken. Kundtjänst kan berätta vilka sätt en viss"
                               " e-tjänst godtar.",
        "help_locked-pin_title": "Min PIN-kod är spärrad",
        "help_locked-pin_body": "Efter flera felaktiga försök spärras PIN-inloggningen en stund"
                                " och öppnas sedan av sig själv; sidan säger när. Logga in med"
                                " BankID under tiden, eller ring kundtjänst: de kan häva"
                                " spärren när de har kontrollerat att det är du. Har du"
                                " glömt PIN-koden väljer du en ny under Mina inloggningar"
                                " (med BankID), eller så skickar kundtjänst ett brev med"
                                " en aktiveringskod.",
        "help_wrong-personal-number_title": "Mitt personnummer godtas inte",
        "help_wrong-personal-number_body": "Skriv personnumret med tolv siffror, ÅÅÅÅMMDD-NNNN."
                                           " Sidan säger vad som är fel: kontrollsiffran,"
                                           " datumet eller formatet. Samordningsnummer"
                                           " (dag + 60) fungerar också.",
        "help_card-not-accepted_title": "Mitt kort godtas inte",
        "help_card-not-accepted_body": "Sidan säger varför: kortet har gått ut, är spärrat,"
                                       " kommer från en utfärdare vi inte litar på, eller du"
                                       " valde certifikatet för underskrift. Välj"
                                       " legitimeringscertifikatet, eller logga in med"
                                       " BankID och kontakta den som utfärdade kortet.",
        "accessibility_title": "Tillgänglighetsredogörelse",
        "accessibility_body": "Stadens e-legitimering ska kunna användas av alla. Sidorna följer"
                              " WCAG 2.1 på nivå AA: de fungerar med tangentbord, skärmläsare"
                              " och förstoring, utan JavaScript, på svenska och engelska."
                              " Testerna kontrollerar rubriker, etiketter, alternativtexter och"
                              " språk på varje sida.",
        "accessibility_report": "Upplever du brister i tillgängligheten? Kontakta stadens"
                                " kundtjänst (se nedan), så svarar vi inom två veckor.",
        "accessibility_digg": "Är du inte nöjd med svaret kan du anmäla det till Myndigheten"
                              " för digital förvaltning (DIGG), som granskar lagen om"
                              " tillgänglighet till digital offentlig service.",
    },
    "en": {
        "product": "City e-ID login",
        "choose_title": "Log in",
        "choose_lead": "Log in to {client} with",
        "method_bankid": "BankID",
        "method_bankid_other": "Mobile BankID on another device",
        "method_bankid_same": "BankID on this device",
        "method_pin": "Personal identity number and PIN",
        "method_freja_other": "Freja eID on another device",
        "method_freja_same": "Freja eID on this device",
        "freja_title": "Log in with Freja eID",
        "freja_qr_title": "QR code for Freja eID",
        "freja_qr_help": "Open the Freja eID app and scan the QR code.",
        "freja_open_on_this_device": "Open Freja eID on this device",
        "freja_STARTED": "Start the Freja eID app.",
        "freja_DELIVERED_TO_MOBILE": "Confirm the login in the Freja eID app.",
        "freja_APPROVED": "Done. Taking you on.",
        "freja_REJECTED": "The login was not approved. If your Freja eID has a lower"
                          " registration level than the service needs, upgrade it in the app"
                          " or choose another way to log in.",
        "freja_CANCELED": "The login was cancelled in the Freja eID app.",
        "freja_RP_CANCELED": "The login was cancelled.",
        "freja_EXPIRED": "The time ran out. Please try again.",
        "freja_error": "Freja eID cannot be reached right now. Please try again in a moment, or"
                       " choose another way to log in.",
        "method_smartcard": "E-ID on a card",
        "smartcard_title": "Log in with a card",
        "smartcard_step_insert": "Insert your card (citizen card or employee card) in the card"
                                 " reader.",
        "smartcard_step_choose": "Choose Continue. Your browser asks which certificate to use"
                                 " and for the card's PIN.",
        "smartcard_continue": "Continue with the card",
        "card_error_title": "The card could not be used",
        "card_no_card": "No card or certificate was presented.",
        "card_no_card_next": "Check that the card is in the reader and that the card reader"
                             " software is running, then try again. Choose the certificate for"
                             " identification when your browser asks.",
        "card_expired": "The certificate on the card has expired or is not valid yet.",
        "card_expired_next": "Order a new card from its issuer (for an employee card: your"
                             " manager or the IT department). Log in with BankID meanwhile.",
        "card_revoked": "The card has been revoked.",
        "card_revoked_next": "A revoked card cannot be used again. Contact the card's issuer;"
                             " log in with BankID meanwhile.",
        "card_untrusted": "The card comes from an issuer this login does not trust.",
        "card_untrusted_next": "Only e-ID cards from approved issuers can be used. Log in with"
                               " BankID, or contact support.",
        "card_unreadable": "The certificate on the card could not be read.",
        "card_unreadable_next": "Take the card out, insert it again and try once more.",
        "card_no_personal_number": "The certificate on the card holds no personal identity"
                                   " number.",
        "card_no_personal_number_next": "Choose the certificate for identification (not the one"
                                        " for signing), or log in with BankID.",
        "card_revocation_unknown": "The card's revocation status cannot be checked right now.",
        "card_revocation_unknown_next": "Try again in a while, or log in with BankID.",
        "err_card_proof": "The card login expired before it was finished. Go back and try"
                          " again.",
        "step_up_lead": "{client} needs a stronger login. Continue with BankID.",
        "context_title": "Who are you acting for?",
        "context_lead": "{client} lets you, {person}, act for yourself or for a company you"
                        " represent.",
        "context_self": "Myself",
        "sign_in_app": "{client} asks you to sign. The BankID app shows the text once BankID"
                       " has checked that it is you.",
        "bankid_title": "Log in with BankID",
        "qr_title": "QR code for BankID",
        "qr_help": "Open the BankID app and scan the QR code.",
        "open_on_this_device": "Open BankID on this device",
        "check_again": "Check again",
        "new_qr": "New QR code",
        "cancel": "Cancel",
        "pin_title": "Log in with PIN",
        "personal_number": "Personal identity number (YYYYMMDD-NNNN)",
        "pin": "PIN",
        "log_in": "Log in",
        "pin_failed": "Wrong personal identity number or PIN. After several wrong attempts"
                      " PIN login is locked for a while; BankID always works.",
        "pin_locked": "PIN login is locked after too many wrong attempts and opens again in"
                      " {minutes} minutes. Log in with BankID instead, or call the city's"
                      " support desk and give the reference {ref}.",
        "invalid_personal_number": "The personal identity number is not valid: {detail}.",
        "other_method": "Choose another way to log in",
        "error_title": "Something went wrong",
        "support_ref": "Quote the reference {ref} if you contact support.",
        "err_unknown_client": "The service that sent you here is not known to the login.",
        "err_bad_request": "The login request from the service is not valid: {detail}",
        "err_tx_expired": "This login has expired or is already finished. Go back to the"
                          " service and start again.",
        "err_csrf": "The form could not be verified. Reload the page and try again.",
        "err_wrong_person": "The service asked for a login by another person than the one"
                            " who identified. Go back to the service and start again.",
        "err_store": "Login is temporarily unavailable. Nothing you did has been lost."
                     " Please try again in a moment.",
        "err_bankid": "BankID cannot be reached right now. Please try again in a moment.",
        "err_freja": "Freja eID cannot be reached right now. Please try again in a moment, or"
                     " choose another way to log in.",
        "err_not_found": "The page does not exist.",
        "err_too_large": "The request is too large.",
        "err_method": "The method is not allowed for this address.",
        "err_internal": "An unexpected error occurred.",
        "logged_out_title": "You are logged out",
        "logged_out_lead": "You are now logged out of the city's e-services.",
        "logout_confirm_title": "Log out?",
        "logout_confirm_lead": "Do you want to log out of all the city's e-services?",
        "logout": "Log out",
        "switch_language": "På svenska",
        "self_title": "My logins",
        "self_lead_login": "See where you are logged in and your recent logins, and log out"
                           " everywhere. Log in with BankID, Freja eID+ or a card.",
        "self_lead": "Logged in: {name}.",
        "self_sessions": "Where you are logged in now",
        "self_session": "since {since} with {method}",
        "self_this_browser": "this browser",
        "self_no_eservice": "no service yet",
        "self_logout_everywhere": "Log out everywhere",
        "self_recent": "Your recent logins",
        "self_recent_unavailable": "The login history cannot be shown right now.",
        "self_event_login": "login at",
        "self_event_step_up": "stronger login at",
        "self_event_signing": "signing at",
        "self_event_logout": "logout",
        "self_event_pin_change": "PIN changed",
        "self_failed": "failed",
        "self_device": "{browser} on {os}",
        "self_device_unknown": "unknown device",
        "self_pin": "Your PIN",
        "self_pin_state_active": "You have a PIN. You can change it here; the old one stops"
                                 " working at once.",
        "self_pin_state_pending": "A letter with an activation code is on its way to you. You"
                                  " can also choose your PIN here; the letter's code then"
                                  " stops working.",
        "self_pin_state_revoked": "Your PIN is blocked. You can choose a new one here.",
        "self_pin_state_none": "You have no PIN. You can choose one here.",
        "self_pin_changed": "Your new PIN works from now on.",
        "pin_new": "New PIN (4–12 digits)",
        "pin_repeat": "Repeat the PIN",
        "pin_save": "Save the PIN",
        "pin_rule_length": "The PIN must be 4–12 digits.",
        "pin_rule_repeated": "The PIN must not be one digit repeated.",
        "pin_rule_run": "The PIN must not be a run such as 1234 or 9876.",
        "pin_rule_birthdate": "The PIN must not be your date of birth.",
        "pin_rule_mismatch": "The two PINs are not the same.",
        "activate_title": "Choose a PIN with an activation code",
        "activate_lead": "Did you get a letter from the city with an activation code? Enter"
                         " your personal identity number and the code, and choose your PIN."
                         " The code works once, until the date in the letter.",
        "activation_code": "Activation code (12 characters, from the letter)",
        "activate_failed": "Wrong personal identity number or activation code, or the code"
                           " has expired or was used already. The city's support desk can"
                           " send a new letter; give them the reference {ref}.",
        "activate_bad_code": "An activation code is 12 letters and digits, as in the letter.",
        "activate_used": "The code was just used in another browser. If you have chosen your"
                         " PIN already, you can log in with it.",
        "activate_done_title": "Your PIN is ready",
        "activate_done": "You can now log in with your personal identity number and PIN at"
                         " the city's e-services. The letter's activation code no longer"
                         " works.",
        "activate_link": "Got a letter with an activation code? Choose your PIN",
        "letter_title": "Your activation code for a PIN",
        "letter_ref": "letter {ref}",
        "personal_number_short": "Personal identity number",
        "letter_lead": "You can now choose a PIN to log in to the city's e-services with your"
                       " personal identity number and PIN.",
        "letter_reset": "Your previous PIN has been blocked. Choose a new PIN with the code in"
                        " this letter.",
        "letter_step_open": "Go to {url}",
        "letter_step_enter": "Enter your personal identity number and the activation code"
                             " below.",
        "letter_step_choose": "Choose a PIN of 4–12 digits and type it twice.",
        "letter_code": "Your activation code:",
        "letter_expires": "The code works once, until {date}. Do not keep this letter with"
                          " your PIN.",
        "letter_bankid": "If you have BankID, you can choose your PIN under My logins"
                         " instead.",
        "letter_not_you": "Did you not ask for a PIN? Call the city's support desk and give"
                          " the letter's number.",
        "cancel_login": "Cancel and go back to the service",
        "help_link": "Help with logging in",
        "accessibility_link": "Accessibility statement",
        "help_title": "Help with logging in",
        "help_all": "All help pages",
        "help_no-bankid_title": "I have no BankID",
        "help_no-bankid_body": "You can log in with Freja eID+, with an e-ID card or, at"
                               " services that allow it, with your personal identity number"
                               " and PIN. BankID is ordered from your bank; Freja eID from"
                               " the app store. The support desk can tell which ways a"
                               " service accepts.",
        "help_locked-pin_title": "My PIN is locked",
        "help_locked-pin_body": "After several wrong attempts PIN login is locked for a while"
                                " and opens again by itself; the page says when. Log in with"
                                " BankID meanwhile, or call the support desk: they can lift"
                                " the lock once they have checked that it is you. If you"
                                " forgot the PIN, choose a new one under My logins (with"
                                " BankID), or the support desk sends a letter with an"
                                " activation code.",
        "help_wrong-personal-number_title": "My personal identity number is not accepted",
        "help_wrong-personal-number_body": "Write the number with twelve digits, YYYYMMDD-NNNN."
                                           " The page says what is wrong: the check digit, the"
                                           " date or the format. Coordination numbers (day +"
                                           " 60) work too.",
        "help_card-not-accepted_title": "My card is not accepted",
        "help_card-not-accepted_body": "The page says why: the card has expired, is revoked,"
                                       " comes from an issuer we do not trust, or you chose"
                                       " the signing certificate. Choose the identification"
                                       " certificate, or log in with BankID and contact the"
                                       " card's issuer.",
        "accessibility_title": "Accessibility statement",
        "accessibility_body": "The city's e-ID login is for everyone. The pages follow WCAG 2.1"
                              " level AA: they work with a keyboard, screen readers and"
                              " magnification, without JavaScript, in Swedish and English. The"
                              " tests check headings, labels, text alternatives and language on"
                              " every page.",
        "accessibility_report": "Do you find a shortcoming? Contact the city's support desk"
                                " (below) and we answer within two weeks.",
        "accessibility_digg": "If you are not satisfied with the answer you can report it to"
                              " the Agency for Digital Government (DIGG), which supervises the"
                              " Swedish law on accessibility to digital public services.",
    },
}


def pick_locale(preferred: Iterable[str], accept_language: str, default: str) -> str:
    """``ui_locales`` first, then Accept-Language, then the default."""
    for tag in preferred:
        if tag in LOCALES:
            return tag
    for part in accept_language.split(",")[:10]:
        tag = part.split(";")[0].strip().split("-")[0].lower()
        if tag in LOCALES:
            return tag
    return default


def text(locale: str, key: str, **params: str) -> str:
    template = CATALOGUE.get(locale, CATALOGUE["sv"]).get(key) or CATALOGUE["en"].get(key, key)
    return template.format(**params) if params else template
