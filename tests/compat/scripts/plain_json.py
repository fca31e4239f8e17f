"""Undecorated run(): the body arrives as a string; the script parses it itself."""
import json


def init():
    global offset
    offset = 1


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return [sum(row) + offset for row in data]
