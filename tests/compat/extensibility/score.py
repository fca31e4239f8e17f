"""Imports one package from AZUREML_EXTRA_REQUIREMENTS_TXT and one from the extra lib folder
(whose six.py shadows the image's own six: the user's version must win)."""
import idna
import six
import userpkg


def init():
    pass


def run(raw_data):
    return {"idna": idna.__version__, "six": six.__version__, "user": userpkg.VALUE}
