"""run() raises: the client gets a 500 with a JSON message, the traceback goes to the log."""


def init():
    pass


def run(raw_data):
    raise ValueError("this model refuses to score")
