from django.shortcuts import render


def run_list(request):
    return render(request, "tuning/run_list.html")


def run_new(request):
    return render(request, "tuning/run_new.html")
