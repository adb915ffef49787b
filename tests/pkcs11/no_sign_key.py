"""Makes, in a PKCS#11 token, an EC P-256 key pair whose private key the
token will not sign with (CKA_SIGN false): pkcs11-tool sets the sign usage
whatever it is told. For tests/pkcs11.rs.

Usage: no_sign_key.py MODULE TOKEN_LABEL PIN OBJECT_LABEL
"""

import sys

import PyKCS11

module, token, pin, label = sys.argv[1:5]
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
slot = next(s for s in lib.getSlotList(tokenPresent=True) if lib.getTokenInfo(s).label.strip() == token)
session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
session.login(pin)
p256 = bytes.fromhex("06082a8648ce3d030107")
public = [
    (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY),
    (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC),
    (PyKCS11.CKA_TOKEN, True),
    (PyKCS11.CKA_LABEL, label),
    (PyKCS11.CKA_EC_PARAMS, p256),
    (PyKCS11.CKA_VERIFY, True),
]
private = [
    (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
    (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC),
    (PyKCS11.CKA_TOKEN, True),
    (PyKCS11.CKA_LABEL, label),
    (PyKCS11.CKA_PRIVATE, True),
    (PyKCS11.CKA_SENSITIVE, True),
    (PyKCS11.CKA_SIGN, False),
]
session.generateKeyPair(public, private, mecha=PyKCS11.MechanismECGENERATEKEYPAIR)
session.logout()
session.closeSession()
